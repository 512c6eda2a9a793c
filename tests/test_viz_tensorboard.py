"""TensorBoard event files of a run: tags of the stored metric names, and what TensorBoard's own reader gets back."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from slimcore.errors import ConfigError, StoreError
from slimcore.viz.tensorboard import (EVENT_FILE_PREFIX, histogram_events, metric_tag, scalar_events,
                                      write_events)

from conftest import tensorboard_events

# Every name StoreRecorder logs (slimcore/training/observers.py, sparsity_figures).
STORED_NAMES = ["train_loss", "train_accuracy", "lr", "val_loss", "val_accuracy", "epoch_train_loss",
                "epoch_train_accuracy", "epoch_seconds", "sparsity@0.001", "sparsity@0.01", "sparsity@0.1",
                "sparsity@0"]
LAYERS = [{"name": "features.1", "size": 3}, {"name": "features.4", "size": 2}]


def snapshot(step: int, gamma) -> dict:
    gamma = np.asarray(gamma, dtype=np.float32)
    return {"step": step, "epoch": step / 10, "at_epoch_end": False, "gamma": gamma, "beta": np.zeros_like(gamma)}


@pytest.mark.parametrize("name, tag", [
    ("train_loss", "train/loss"), ("val_accuracy", "val/accuracy"), ("lr", "train/lr"),
    ("epoch_train_loss", "epoch/train_loss"), ("epoch_seconds", "epoch/seconds"), ("test_accuracy", "test/accuracy"),
    ("sparsity@0.01", "sparsity/below_0.01"), ("sparsity@0", "sparsity/zero"), ("something", "something"),
])
def test_stored_metric_names_become_grouped_tags(name, tag):
    assert metric_tag(name) == tag


def test_every_stored_metric_gets_a_tag_of_its_own():
    events = scalar_events({n: {"step": [1], "epoch": [0.1], "value": [0.5]} for n in STORED_NAMES})
    assert len({tag for _, tag, _ in events}) == len(STORED_NAMES)


def test_a_layer_named_all_does_not_merge_with_the_histogram_of_all_layers():
    events = histogram_events([snapshot(0, [1, 2])], [{"name": "all", "size": 2}])
    assert sorted(tag for _, tag, _ in events) == ["abs_gamma/all", "gamma/all", "gamma/all_2"]


def test_scalars_and_histograms_read_back_as_written(tmp_path):
    metrics = {"val_accuracy": {"step": [3], "epoch": [1.0], "value": [0.9]},
               "train_loss": {"step": [1, 2, 2, 3], "epoch": [0.1, 0.2, 0.2, 0.3], "value": [2.5, 1.25, 1.0, 0.1]}}
    snaps = [snapshot(0, [0.5, -1.0, 2.0, 0.25, 0.0]), snapshot(3, [0.1, -0.2, 0.3, 0.0, 4.0])]
    files = write_events(tmp_path / "run", scalar_events(metrics), histogram_events(snaps, LAYERS))
    assert [f.parent for f in files] == [tmp_path / "run"] and files[0].name.startswith(EVENT_FILE_PREFIX)
    read = tensorboard_events(tmp_path / "run")
    # Every stored value, two at one step included: a series is written as it is, not reduced to one per step.
    assert read["scalars"]["train/loss"] == [(1, 2.5), (2, 1.25), (2, 1.0), (3, pytest.approx(0.1))]
    assert read["scalars"]["val/accuracy"] == [(3, pytest.approx(0.9))]
    layer = read["histograms"]["gamma/features.4"]
    assert [step for step, _ in layer] == [0, 3]
    assert (layer[1][1].num, layer[1][1].min, layer[1][1].max) == (2, 0.0, 4.0)
    magnitudes = read["histograms"]["abs_gamma/all"][0][1]
    assert (magnitudes.num, magnitudes.min, magnitudes.max, magnitudes.sum) == (5, 0.0, 2.0, 3.75)


def test_a_second_export_replaces_the_first_so_tensorboard_shows_the_run_once(tmp_path):
    write_events(tmp_path / "run", [(1, "train/loss", 1.0)], [])
    files = write_events(tmp_path / "run", [(1, "train/loss", 0.5), (2, "train/loss", 0.25)], [])
    assert sorted((tmp_path / "run").iterdir()) == files
    assert not [p for p in tmp_path.iterdir() if p.name != "run"]  # no partial folder left
    assert tensorboard_events(tmp_path / "run")["scalars"]["train/loss"] == [(1, 0.5), (2, 0.25)]


def test_non_finite_gammas_are_left_out_and_an_empty_histogram_is_skipped():
    events = histogram_events([snapshot(4, [np.nan, 1.0, np.inf, np.nan, np.nan])], LAYERS)
    by_tag = {tag: values for _, tag, values in events}
    assert by_tag["gamma/features.1"].tolist() == [1.0] and "gamma/features.4" not in by_tag
    assert by_tag["gamma/all"].tolist() == [1.0]


def test_a_snapshot_that_does_not_match_the_layers_is_a_store_error():
    with pytest.raises(StoreError, match="step 7"):
        histogram_events([snapshot(7, [1.0, 2.0])], LAYERS)


def test_without_tensorboard_the_writer_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ConfigError, match=r"pip install 'slimcore\[tensorboard\]'"):
        write_events(tmp_path / "run", [(1, "train/loss", 1.0)], [])
    assert not (tmp_path / "run").exists()
