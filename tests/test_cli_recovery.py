"""`slimcore prune --distill … --steps …` (`slimcore.cli.recovery`): every bad use of the flags is one line on stderr,
exit 2, and no run recorded; the flags reach the prune job's settings, and an iterative prune prints its path."""
from __future__ import annotations

import json

import pytest

from slimcore.cli.main import main
from slimcore.store import RunStore

FT = ["--finetune-epochs", "1"]


@pytest.mark.parametrize("argv, message", [
    (["--flops-ratio", "0.5", "--distill"], "--distill changes how the pruned model is fine-tuned, but there is no "
                                            "fine-tuning: give --finetune-epochs N (N >= 1)."),
    (["--flops-ratio", "0.5", *FT, "--distill", "--distill-temperature", "0"],
     "the distillation temperature (--distill-temperature) must be a number > 0, got 0.0."),
    (["--flops-ratio", "0.5", *FT, "--distill", "--distill-temperature", "inf"], "must be a number > 0, got inf."),
    (["--flops-ratio", "0.5", *FT, "--distill", "--distill-weight", "1.5"],
     "the distillation weight (--distill-weight) must be a number in [0, 1], the soft targets' share of the loss, "
     "got 1.5."),
    (["--flops-ratio", "0.5", *FT, "--distill", "--distill-weight=-0.1"], "must be a number in [0, 1]"),
    (["--flops-ratio", "0.5", *FT, "--distill-temperature", "2"],
     "--distill-temperature set up distillation: add --distill, or leave it out."),
    (["--flops-ratio", "0.5", *FT, "--distill-temperature", "2", "--distill-weight", "0.5"],
     "--distill-temperature and --distill-weight set up distillation: add --distill, or leave them out."),
    (["--flops-ratio", "0.5", *FT, "--steps", "0"], "steps (--steps) must be an integer in 1..100, got 0."),
    (["--flops-ratio", "0.5", *FT, "--steps", "101"], "steps (--steps) must be an integer in 1..100, got 101."),
    (["--threshold", "0.1", *FT, "--steps", "3"],
     "--steps K prunes toward a FLOPs target: give --flops-ratio R instead of --threshold"),
    (["--flops-ratio", "0.5", "--steps", "3"],
     "--steps K re-ranks the channels on the model fine-tuned after each cut: give --finetune-epochs N"),
    (["--flops-ratio", "0.5", *FT, "--steps", "3", "--ranking", "tpp"],
     "the tpp ranking removes what the penalty chose during training, in one cut"),
    (["--flops-ratio", "0.5", *FT, "--keep-penalty"],
     "--keep-penalty keeps the sparsity penalty on between the cuts of an iterative prune: give --steps K"),
    (["--flops-ratio", "0.5", "--steps", "3", "--keep-penalty"],
     "--keep-penalty changes how the pruned model is fine-tuned, but there is no fine-tuning"),
])
def test_every_bad_use_is_one_line_exit_2_and_records_nothing(digits_run, capsys, argv, message):
    store, run_id = digits_run
    before = len(store.list_runs())
    code = main(["prune", run_id, *argv, "--runs-dir", str(store.root)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("slimcore: error:") and message in err
    assert len(store.list_runs()) == before


@pytest.mark.parametrize("value", ["2.5", "three"])
def test_steps_that_are_not_an_integer_are_refused_by_the_parser_in_one_line(digits_run, capsys, value):
    store, run_id = digits_run
    before = len(store.list_runs())
    with pytest.raises(SystemExit) as stop:
        main(["prune", run_id, "--flops-ratio", "0.5", *FT, "--steps", value, "--runs-dir", str(store.root)])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1 and "argument --steps: invalid int value" in err
    assert len(store.list_runs()) == before


def test_keep_penalty_on_a_run_trained_without_one_is_refused_before_recording(tmp_path, capsys, monkeypatch):
    from slimcore.config import TrainConfig

    monkeypatch.setattr("slimcore.pruning.trained.check_prunable", lambda store, run_id: None)
    store = RunStore(tmp_path)
    run_id = store.create_run(TrainConfig(dataset="digits", penalty="none").to_dict(), kind="train", label="plain")
    code = main(["prune", run_id, "--flops-ratio", "0.5", *FT, "--steps", "2", "--keep-penalty",
                 "--runs-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert f"--keep-penalty keeps run {run_id}'s sparsity penalty on between the cuts, but it was trained without " \
           "one (penalty none): leave --keep-penalty out." in err
    assert [r["id"] for r in store.list_runs()] == [run_id]


@pytest.mark.slow
def test_the_flags_reach_the_job_and_an_iterative_prune_prints_its_path(digits_run, capsys, tmp_path):
    store, run_id = digits_run
    code = main(["prune", run_id, "--flops-ratio", "0.6", *FT, "--steps", "2", "--distill", "--distill-temperature",
                 "3", "--distill-weight", "0.7", "--keep-penalty", "--out", str(tmp_path), "--runs-dir",
                 str(store.root)])
    out = capsys.readouterr().out
    assert code == 0
    report = json.loads((tmp_path / "report.json").read_text())
    ft = report["settings"]["finetune"]
    assert report["settings"]["steps"] == 2 and (ft["distill"], ft["keep_penalty"]) == (True, True)
    assert (ft["distill_temperature"], ft["distill_weight"]) == (3.0, 0.7)
    lines = [line for line in out.splitlines() if line.startswith("  step ")]
    assert len(lines) == 2 and lines[1].endswith(str(tmp_path / "step_2" / "model.pt"))
    assert "(target 80.0%)" in lines[0] and "(target 60.0%)" in lines[1]
