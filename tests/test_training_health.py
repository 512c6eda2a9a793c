"""Run health (`slimcore.training.health`): runs the tests train to collapse, to explode and to sparsify nothing
are each named, with what to change, in `slimcore runs --json` (`health`) and on the Train and Runs pages; a
healthy run has no finding."""
from __future__ import annotations

import json

import pytest

from slimcore.cli.main import main
from slimcore.training.health import assess

CONFIG = {"lam": 0.1, "lr": 0.05, "penalty": "l1"}


def test_each_finding_follows_from_the_summary():
    healthy = {"val_accuracy": 0.95, "sparsity@0.01": 0.3, "train_loss": 0.2, "gamma_max": 1.2, "num_classes": 10}
    assert assess(healthy, CONFIG, "finished") == []
    assert assess({}, CONFIG, "running") == []  # no epoch yet
    problems = lambda s, status="finished": [f["problem"] for f in assess({**healthy, **s}, CONFIG, status)]  # noqa: E731
    assert problems({"sparsity@0.01": 0.99, "val_accuracy": 0.1}) == ["collapsed"]
    assert problems({"train_loss": float("nan")}) == ["exploded"] == problems({"gamma_max": 4e4})
    assert problems({"sparsity@0.01": 0.0}) == ["sparsified nothing"]
    assert problems({"sparsity@0.01": 0.0}, status="running") == []  # early in a run nothing is normal
    assert problems({"val_accuracy": 0.11}) == ["not learning"]
    assert assess({**healthy, "sparsity@0.01": 0.0}, {**CONFIG, "penalty": "none"}, "finished") == []
    [collapsed] = assess({**healthy, "sparsity@0.01": 0.99}, CONFIG, "finished")
    assert "lower λ (now 0.1)" in collapsed["message"]


@pytest.mark.parametrize("flags, problem", [
    (["--lam", "0.3", "--epochs", "3"], "collapsed"),
    (["--penalty", "l1", "--mode", "subgradient", "--lam", "1e6", "--epochs", "2"], "exploded"),
    (["--penalty", "l1", "--lam", "1e-6", "--epochs", "3"], "sparsified nothing"),
])
def test_runs_trained_to_fail_are_named_in_runs_json(flags, problem, runs_dir, capsys):
    assert main(["train", "--model", "slimnet", "--dataset", "digits", *flags, "--runs-dir", str(runs_dir),
                 "--json"]) == 0
    capsys.readouterr()
    assert main(["runs", "--json", "--runs-dir", str(runs_dir)]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["status"] == "finished" and [f["problem"] for f in row["health"]] == [problem]
    assert main(["runs", "--runs-dir", str(runs_dir)]) == 0
    assert f"! {problem}:" in capsys.readouterr().out


def test_the_train_and_runs_pages_warn(runs_dir, capsys):
    from streamlit.testing.v1 import AppTest

    assert main(["train", "--model", "slimnet", "--dataset", "digits", "--lam", "0.3", "--epochs", "3",
                 "--runs-dir", str(runs_dir)]) == 0
    for page in ("pages/1_Train.py", "pages/3_Runs.py"):
        at = AppTest.from_file("../app.py", default_timeout=60).switch_page(page).run()
        assert not at.exception, [e.message for e in at.exception]
        assert any("collapsed" in w.value and "lower λ" in w.value for w in at.warning), page


def test_imported_weights_near_chance_point_at_a_mismatch_not_at_training():
    from slimcore.training.health import assess

    found = assess({"val_accuracy": 0.1, "sparsity@0.01": 0.0, "num_classes": 10},
                   {"epochs": 0, "penalty": "none", "lam": 0.0, "lr": 0.05}, "finished")
    assert [f["problem"] for f in found] == ["not learning"]
    assert "imported weights" in found[0]["message"] and "train longer" not in found[0]["message"]
