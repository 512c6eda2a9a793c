"""`slimcore export RUN --tensorboard DIR`: a trained run's metrics and γ snapshots, read back with TensorBoard's own
reader, are exactly what the store holds; a missing tensorboard, an unknown run and an empty run are one-line
errors with exit 2."""
from __future__ import annotations

import contextlib
import io
import json
import sys

import numpy as np
import pytest

from slimcore.cli.export import export_tensorboard
from slimcore.cli.main import main
from slimcore.store import RunStore
from slimcore.viz.gamma import split_layers
from slimcore.viz.tensorboard import metric_tag

from conftest import tensorboard_events


def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def exported(digits_run, tmp_path_factory):
    """(store, run id, the --json output, what TensorBoard reads back) of the session's trained run."""
    store, run_id = digits_run
    log_dir = tmp_path_factory.mktemp("tensorboard")
    stdout = io.StringIO()  # capsys is per test; this export is shared by the module's tests
    with contextlib.redirect_stdout(stdout):
        code = main(["export", run_id, "--tensorboard", str(log_dir), "--json", "--runs-dir", str(store.root)])
    assert code == 0
    return store, run_id, json.loads(stdout.getvalue()), tensorboard_events(log_dir / run_id)


def test_every_stored_metric_series_is_a_scalar_series_with_the_same_step_value_pairs(exported):
    store, run_id, result, read = exported
    metrics = store.metrics(run_id)
    assert {"train_loss", "val_accuracy", "lr", "sparsity@0.01"} <= set(metrics)
    assert set(read["scalars"]) == {metric_tag(name) for name in metrics}
    for name, series in metrics.items():
        # TensorBoard keeps a scalar as float32 (its simple_value field).
        stored = [(int(s), float(np.float32(v))) for s, v in zip(series["step"], series["value"])]
        assert read["scalars"][metric_tag(name)] == stored, name
    assert result["scalars"] == sum(len(s["step"]) for s in metrics.values())


def test_each_snapshot_is_one_histogram_per_bn_layer_with_the_stored_gammas(exported):
    store, run_id, result, read = exported
    snapshots, layers = store.snapshots(run_id), store.get_run(run_id)["layers"]
    assert len(snapshots) > 2 and len(layers) > 1
    steps = [snap["step"] for snap in snapshots]
    for layer in layers:
        events = read["histograms"][f"gamma/{layer['name']}"]
        assert [step for step, _ in events] == steps
        for (_, histogram), snap in zip(events, snapshots):
            gamma = split_layers(snap["gamma"], layers)[layer["name"]].astype(np.float64)
            assert histogram.num == layer["size"] == gamma.size
            assert (histogram.min, histogram.max) == (gamma.min(), gamma.max())
            assert histogram.sum == pytest.approx(gamma.sum(), rel=1e-12, abs=1e-12)
    for tag, of in (("gamma/all", lambda g: g), ("abs_gamma/all", np.abs)):
        for (step, histogram), snap in zip(read["histograms"][tag], snapshots, strict=True):
            gamma = of(snap["gamma"].astype(np.float64))
            assert (step, histogram.num, histogram.min, histogram.max) == (snap["step"], gamma.size, gamma.min(),
                                                                            gamma.max())
    assert result["histograms"] == len(snapshots) * (len(layers) + 2)


def test_the_json_output_names_the_run_folder_and_its_files(exported):
    store, run_id, result, _ = exported
    assert set(result) == {"run_id", "dir", "scalars", "histograms", "files"}
    assert result["run_id"] == run_id and result["dir"].endswith(run_id)
    assert len(result["files"]) == 1 and result["files"][0].startswith(result["dir"])


def run_with_a_metric(runs_dir, label: str = "") -> tuple[RunStore, str]:
    """A run with one metric value and nothing else: enough to export, no training needed."""
    store = RunStore(runs_dir)
    run_id = store.create_run({"model": "slimnet"}, label=label)
    store.log_metrics(run_id, 1, 0.1, {"train_loss": 2.0})
    return store, run_id


def test_runs_exported_into_one_folder_sit_side_by_side_and_the_store_is_untouched(runs_dir, tmp_path, capsys):
    store, first = run_with_a_metric(runs_dir, "first")
    _, second = run_with_a_metric(runs_dir, "second")
    before = (store.metrics(first), store.get_run(first)["updated"])
    log_dir = tmp_path / "tb" / "new"  # created, parents too
    for run_id in (first, second):
        code, out, err = cli(capsys, "export", run_id, "--tensorboard", str(log_dir))
        assert code == 0, err
        assert out.count("\n") == 1 and f"tensorboard --logdir {log_dir}" in out
    assert sorted(p.name for p in log_dir.iterdir()) == sorted([first, second])
    assert tensorboard_events(log_dir / second)["scalars"] == {"train/loss": [(1, 2.0)]}
    assert (store.metrics(first), store.get_run(first)["updated"]) == before


def test_without_tensorboard_the_command_says_how_to_install_it(runs_dir, tmp_path, capsys, monkeypatch):
    _, run_id = run_with_a_metric(runs_dir)
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    code, out, err = cli(capsys, "export", run_id, "--tensorboard", str(tmp_path / "tb"))
    assert code == 2 and out == ""
    assert err.startswith("slimcore: error: ") and err.count("\n") == 1
    assert "pip install 'slimcore[tensorboard]'" in err
    assert not (tmp_path / "tb" / run_id).exists()


def test_an_unknown_run_is_the_stores_error(runs_dir, tmp_path, capsys):
    run_with_a_metric(runs_dir)
    code, _, err = cli(capsys, "export", "20990101-000000-nope", "--tensorboard", str(tmp_path / "tb"))
    assert code == 2 and "no run '20990101-000000-nope'" in err and err.count("\n") == 1
    assert not (tmp_path / "tb").exists()


def test_a_run_with_nothing_recorded_is_refused(runs_dir, tmp_path, capsys):
    run_id = RunStore(runs_dir).create_run({"model": "slimnet"})
    code, _, err = cli(capsys, "export", run_id, "--tensorboard", str(tmp_path / "tb"))
    assert code == 2 and "no metrics and no γ snapshots" in err and err.count("\n") == 1
    assert not (tmp_path / "tb").exists()


def test_the_flag_is_required(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["export", "some-run"])
    assert exc.value.code == 2 and "--tensorboard" in capsys.readouterr().err


def test_the_function_behind_the_command_returns_what_json_prints(runs_dir, tmp_path):
    store, run_id = run_with_a_metric(runs_dir)
    result = export_tensorboard(store, run_id, tmp_path)
    assert (result["scalars"], result["histograms"], result["dir"]) == (1, 0, str(tmp_path / run_id))
