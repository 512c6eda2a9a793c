"""Committing a prune (`slimcore.pruning.committing`) on a run trained for two epochs on the tiny digits set: the
files, the prune run, the report, fine-tuning through the training loop, and refusals before anything is recorded."""
from __future__ import annotations

import json

import pytest

from slimcore import jobs
from slimcore.errors import ConfigError, StoreError
from slimcore.pruning import FineTuneSettings, PruneSettings, commit, get_curve, load_pruned, preview_at
from slimcore.pruning.committing import prune_report
from slimcore.pruning.trained import load_trained
from slimcore.training.evaluate import evaluate


@pytest.fixture
def trained(digits_run):
    """(store, run id) of slimnet trained 2 epochs on digits with an ℓ1 penalty on γ (the session's shared run)."""
    return digits_run


@pytest.mark.parametrize("kwargs, error", [
    ({"threshold": float("nan")}, ConfigError), ({"threshold": 0.1, "flops_ratio": 0.5}, ConfigError),
    ({}, ConfigError), ({"flops_ratio": 0.0}, ConfigError), ({"flops_ratio": 1.2}, ConfigError),
    ({"threshold": 0.1, "ranking": "gamma"}, ConfigError), ({"threshold": 0.1, "min_channels": 0}, ConfigError),
])
def test_bad_requests_fail_with_our_errors(trained, kwargs, error):
    store, run_id = trained
    with pytest.raises(error):
        preview_at(store, run_id, **kwargs)
    with pytest.raises(error):
        commit(store, run_id, PruneSettings(**kwargs))


def test_commit_writes_files_a_prune_run_and_matches_the_preview(trained, tmp_path):
    store, run_id = trained
    curve = get_curve(store, run_id, "bn")
    point = curve["points"][5]
    stages = []
    settings = PruneSettings("bn", threshold=point["threshold"], out_dir=str(tmp_path), latency_repeats=3)
    report = commit(store, run_id, settings, progress=lambda d, t, m: stages.append(m))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx", "model.pt", "report.json"]
    assert json.loads((tmp_path / "report.json").read_text())["accuracy"] == report["accuracy"]
    assert report["before_finetune"]["val_accuracy"] == point["accuracy"]
    assert (report["macs"], report["flops"], report["params"]) == (point["macs"], point["flops"], point["params"])
    assert report["input_shape"] == [1, 1, 8, 8] and report["split"] == "test"
    for b in ("batch1", "batch64"):
        assert report["latency"][b]["original_ms"] > 0 and report["latency"][b]["pruned_ms"] > 0
    run = store.get_run(report["run_id"])
    assert run["kind"] == "prune" and run["parent"] == run_id and run["status"] == "finished"
    assert store.artifact(report["run_id"], "model.pt") is not None
    data = load_trained(store, run_id).data
    model = load_pruned(tmp_path / "model.pt")
    assert evaluate(model, data.val)[1] == point["accuracy"]
    assert evaluate(model, data.test)[1] == report["accuracy"]
    assert report["output_change"] == point["output_change"] > 0
    locked = any(type(m).__name__ == "BiasMapConv2d" for m in model.modules())
    assert report["compensation"] == {"method": "mean-input", "calibration_samples": 512, "input_size_locked": locked}
    assert stages and stages[-1].startswith("saved")
    with pytest.raises(StoreError, match="prune run"):
        get_curve(store, report["run_id"])


def test_threshold_zero_commits_the_unpruned_model(trained, tmp_path):
    store, run_id = trained
    report = commit(store, run_id, PruneSettings(threshold=0, out_dir=str(tmp_path), latency_repeats=3))
    assert report["removed_channels"] == 0 and report["flops_ratio"] == 1.0 and not report["clamped"]
    assert report["widths"] == report["base"]["widths"]
    assert report["accuracy"] == report["base"]["test_accuracy"]


def test_fine_tuning_emits_training_events_into_the_store(trained, tmp_path):
    from slimcore.training.events import Observer

    class Count(Observer):
        def __init__(self):
            self.events = []

        def on_start(self, trainer):
            self.events.append("start")

        def on_step(self, trainer, info):
            self.events.append("step")

        def on_epoch_end(self, trainer, info):
            self.events.append("epoch")

        def on_end(self, trainer, status, message):
            self.events.append(status)

    store, run_id = trained
    counter = Count()
    settings = PruneSettings(flops_ratio=0.6, finetune=FineTuneSettings(epochs=2, lr=0.02), out_dir=str(tmp_path),
                             latency_repeats=3)
    report = commit(store, run_id, settings, observers=[counter])
    assert counter.events[0] == "start" and counter.events.count("epoch") == 2 and counter.events[-1] == "finished"
    assert report["finetune"]["status"] == "finished"
    metrics = store.metrics(report["run_id"])
    assert len(metrics["val_accuracy"]["value"]) == 2 and metrics["train_loss"]["value"]
    assert report["accuracy"] == evaluate(load_pruned(tmp_path / "model.pt"), load_trained(store, run_id).data.test)[1]


def test_a_prune_job_that_exported_nothing_has_no_report(trained):
    store, run_id = trained
    prune_id = jobs.create(store, "prune", PruneSettings(threshold=0.1), parent=run_id)
    assert prune_report(store, prune_id) is None
    run = store.get_run(prune_id)
    assert (run["kind"], run["parent"], run["status"]) == ("prune", run_id, "starting")
    assert PruneSettings.from_dict(run["config"]) == PruneSettings(threshold=0.1)
