"""`--model package.module:function` and `--model path/file.py:function`: a model defined in a file the test
writes goes the whole way through the CLI (train, preview, prune, export, evaluate); what cannot be pruned says why."""
from __future__ import annotations

import json
import sys

import pytest

from own_models_support import MODEL_SOURCE
from slimcore.cli.main import main
from slimcore.errors import ConfigError
from slimcore.models import external


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """`usernet.py` in the current folder, importable as `usernet` (as `python -m` makes the cwd importable)."""
    (tmp_path / "usernet.py").write_text(MODEL_SOURCE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("usernet", None)


def test_specs_resolve_to_their_callable(user_module):
    fn = external.resolve("usernet:build")
    assert fn.__name__ == "build" and external.resolve(f"{user_module / 'usernet.py'}:build").__name__ == "build"
    assert external.is_spec("usernet:build") and not external.is_spec("slimnet")
    assert external.short_name("/a/b/usernet.py:build") == "build" and external.short_name("slimnet") == "slimnet"
    assert external.canonical("usernet.py:build") == f"{user_module / 'usernet.py'}:build"
    assert external.canonical("usernet:build") == "usernet:build"


@pytest.mark.parametrize("spec, says", [
    ("usernet", "unknown model"), (":build", "must read"), ("usernet:", "must read"),
    ("usernet:nothere", "has no 'nothere'"), ("nosuchmod:build", "does not import"),
    ("missing.py:build", "there is no file"), ("usernet:TwoPathNet", "cannot be called as"),
])
def test_bad_specs_are_named(user_module, spec, says):
    from slimcore.models import check_model_name

    with pytest.raises(ConfigError, match=says):
        check_model_name(spec)


def test_a_model_from_a_module_goes_through_the_cli(user_module, capsys):
    from test_plugins import _masked_equals_pruned

    runs = str(user_module / "runs")
    assert main(["train", "--model", "usernet:build", "--dataset", "digits", "--epochs", "2", "--penalty", "l1",
                 "--lam", "0.02", "--json", "--runs-dir", runs]) == 0
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    assert "build-l1" in run_id  # the function's name, not the spec, names the run
    assert main(["preview", run_id, "--points", "4", "--json", "--runs-dir", runs]) == 0
    curve = json.loads(capsys.readouterr().out)
    threshold = curve["points"][1]["threshold"]
    out = user_module / "pruned"
    assert main(["prune", run_id, "--threshold", str(threshold), "--out", str(out), "--json", "--runs-dir", runs]) == 0
    report = json.loads(capsys.readouterr().out)
    assert _masked_equals_pruned(runs, run_id, threshold, out / "model.pt") <= 1e-5
    assert main(["evaluate", str(out / "model.pt"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] == pytest.approx(report["accuracy"])
    assert main(["export", run_id, "--tensorboard", str(user_module / "tb"), "--runs-dir", runs]) == 0


def test_a_file_spec_is_recorded_with_its_absolute_path(user_module, capsys):
    from slimcore.store import RunStore

    runs = str(user_module / "runs")
    assert main(["train", "--model", "usernet.py:build", "--dataset", "digits", "--epochs", "1", "--json",
                 "--runs-dir", runs]) == 0
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    assert RunStore(runs).get_run(run_id)["config"]["model"] == f"{user_module / 'usernet.py'}:build"


def test_a_model_pruning_cannot_handle_trains_and_then_says_why_it_cannot_be_pruned(tmp_path, capsys):
    from test_training_start import NO_BN, _model_file

    runs = str(tmp_path / "runs")
    spec = f"{_model_file(tmp_path, NO_BN)}:build"
    assert main(["train", "--model", spec, "--dataset", "digits", "--epochs", "1", "--json", "--runs-dir", runs]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["status"] == "finished" and "note: this model cannot be pruned (it has no BatchNorm2d" in captured.err
    for command in (["preview", out["run_id"]], ["prune", out["run_id"], "--threshold", "0.1"],
                    ["rank", out["run_id"]]):
        assert main([*command, "--runs-dir", runs]) == 2
        err = capsys.readouterr().err
        assert "cannot be pruned: it has no BatchNorm2d layer" in err and err.count("\n") == 1
