"""Models and data sets from another package, registered through entry points: listed, trained, pruned, exported
and evaluated like built-in ones; an entry point that fails is reported and the others stay usable."""
from __future__ import annotations

import json

import pytest
import torch

from own_models_support import installed, write_package
from slimcore.cli.main import main


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    folder = write_package(tmp_path_factory.mktemp("plugin"))
    with installed(folder):
        yield folder


def test_entry_points_become_registry_entries(package):
    from slimcore.data import DATASETS
    from slimcore.models import MODELS, create_model

    assert "twopath" in MODELS.names() and "plugdigits" in DATASETS.names()
    assert MODELS.plugins["twopath"] == "slimtestpkg.models:build"
    assert "plugin slimtestpkg.models:build" in MODELS.describe("twopath")
    model = create_model("twopath", 10, 1, 8)
    assert model(torch.zeros(2, 1, 8, 8)).shape == (2, 10)


def test_plugins_command_lists_them(package, capsys):
    assert main(["plugins", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {(p["kind"], p["name"], p["target"]) for p in out["loaded"]} == {
        ("model", "twopath", "slimtestpkg.models:build"), ("dataset", "plugdigits", "slimtestpkg.data:load_small_digits")}
    assert out["failed"] == []


def test_train_help_lists_the_plugin_model(package, capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "twopath" in capsys.readouterr().out


def test_failing_entry_points_are_reported_and_the_others_still_listed(tmp_path, capsys):
    from slimcore.models import MODELS

    folder = write_package(tmp_path, name="brokenpkg", files={"__init__.py": "", "models.py": (
        "def two_args(num_classes, in_channels):\n    return None\n"
        "def good(num_classes, in_channels, image_size):\n    import torch\n    return torch.nn.Linear(1, 1)\n")},
        entry_points={"slimcore.models": {"missing": "brokenpkg.nothere:build", "badsig": "brokenpkg.models:two_args",
                                          "slimnet": "brokenpkg.models:good", "fine": "brokenpkg.models:good"}})
    with installed(folder):
        assert main(["plugins", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        failed = {f["name"]: f["reason"] for f in out["failed"]}
        assert set(failed) == {"missing", "badsig", "slimnet"}
        assert "ModuleNotFoundError" in failed["missing"]
        assert "cannot be called as (num_classes, in_channels, image_size)" in failed["badsig"]
        assert "taken by a built-in" in failed["slimnet"]
        loaded = [p["name"] for p in out["loaded"]]
        assert "fine" in loaded and not set(failed) & set(loaded)
        assert "slimnet" in MODELS.names() and MODELS.plugins.get("slimnet") is None  # the built-in is kept
        with pytest.raises(SystemExit):
            main(["train", "--help"])
        help_text = capsys.readouterr().out
        assert "fine" in help_text and "plugin 'missing'" in help_text and "failed to load" in help_text
        assert main(["train", "--model", "nosuch", "--dataset", "digits"]) == 2
        err = capsys.readouterr().err
        assert "warning: model plugin 'missing'" in err and "unknown model 'nosuch'" in err
    assert "fine" not in MODELS.names()


def _masked_equals_pruned(runs, run_id: str, threshold: float, model_pt) -> float:
    """Relative difference between the committed model.pt and the masked model (same shapes, removed weights 0)."""
    import slimcore
    from slimcore.analysis.structure import masked_model
    from slimcore.pruning.math.plan import select
    from slimcore.pruning.scoring import ranking_scores
    from slimcore.pruning.trained import load_trained
    from slimcore.store import RunStore

    store = RunStore(runs)
    trained = load_trained(store, run_id)
    scores, _ = ranking_scores(store, trained, "bn")
    plan = select(scores, threshold).plan
    masked = masked_model(trained.model, trained.structure, plan, trained.compensation)
    loaded = slimcore.load_pruned(model_pt)
    x = torch.stack([trained.data.val[i][0] for i in range(len(trained.data.val))])
    with torch.no_grad():
        want, got = masked(x), loaded(x)
    assert sum(p.numel() for p in loaded.parameters()) < sum(p.numel() for p in trained.model.parameters())
    return float((got - want).norm() / want.norm())


def test_a_plugin_model_trains_previews_prunes_exports_and_evaluates(package, tmp_path, capsys):
    runs = str(tmp_path / "runs")
    assert main(["train", "--model", "twopath", "--dataset", "plugdigits", "--epochs", "2", "--penalty", "l1",
                 "--lam", "0.02", "--json", "--runs-dir", runs]) == 0
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    assert main(["preview", run_id, "--points", "4", "--json", "--runs-dir", runs]) == 0
    curve = json.loads(capsys.readouterr().out)
    assert len(curve["points"]) >= 4 and curve["points"][-1]["flops_ratio"] < 1
    threshold = curve["points"][1]["threshold"]
    out = tmp_path / "pruned"
    assert main(["prune", run_id, "--threshold", str(threshold), "--out", str(out), "--json", "--runs-dir", runs]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["flops_ratio"] < 1
    assert _masked_equals_pruned(runs, run_id, threshold, out / "model.pt") <= 1e-5
    assert main(["evaluate", str(out / "model.pt"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] == pytest.approx(report["accuracy"])
    assert main(["export", run_id, "--tensorboard", str(tmp_path / "tb"), "--json", "--runs-dir", runs]) == 0
    assert json.loads(capsys.readouterr().out)["histograms"] > 0


@pytest.mark.slow
def test_a_plugin_model_trains_as_a_background_job(package, tmp_path, capsys):
    """The job's own process finds the entry point too (it is an installed package there as well)."""
    from conftest import job_log, wait_for_status
    from slimcore.store import RunStore

    runs = tmp_path / "runs"
    assert main(["train", "--model", "twopath", "--dataset", "plugdigits", "--epochs", "1", "--detach", "--json",
                 "--runs-dir", str(runs)]) == 0
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    store = RunStore(runs)
    run = wait_for_status(store, run_id, ("finished", "failed"), timeout=180)
    assert run["status"] == "finished", job_log(store, run_id)
