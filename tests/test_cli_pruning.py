"""`slimcore rank | preview | prune | evaluate` (`slimcore.cli.pruning`): one-line errors with exit 2, and the
end-to-end path."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from slimcore.cli.main import main
from slimcore.store import RunStore


@pytest.fixture
def trained(digits_run):
    """(runs folder, run id) of the session's shared digits run."""
    store, run_id = digits_run
    return str(store.root), run_id


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv, message", [
    (["prune", "RUN", "--threshold", "nan"], "threshold must be a number, got NaN"),
    (["prune", "RUN", "--threshold", "0.1", "--flops-ratio", "0.5"], "give exactly one of a threshold"),
    (["prune", "RUN"], "give exactly one of a threshold"),
    (["prune", "RUN", "--flops-ratio", "1.5"], "flops ratio must be in (0, 1] (the share of FLOPs to keep, 1 = unpruned), got 1.5."),
    (["prune", "RUN", "--flops-ratio", "0"], "flops ratio must be in (0, 1] (the share of FLOPs to keep, 1 = unpruned), got 0.0."),
    (["prune", "RUN", "--threshold", "0.1", "--ranking", "gamma"], "unknown ranking 'gamma'. Valid rankings: bn, bn-mean, bn-sum, l1norm, legr, tpp."),
    (["preview", "RUN", "--ranking", "nope", "--json"], "unknown ranking 'nope'. Valid rankings: bn, bn-mean, bn-sum, l1norm, legr, tpp."),
    (["preview", "RUN", "--points", "0"], "points must be an integer in 1..1000, got 0."),
    (["rank", "RUN", "--population", "3"], "apply to --ranking legr only"),
    (["prune", "missing-run", "--threshold", "0.1"], "no run 'missing-run' in"),
    (["rank", "missing-run"], "no run 'missing-run' in"),
])
def test_bad_input_is_one_line_and_exit_2(trained, capsys, argv, message):
    runs, run_id = trained
    code, out, err = run_cli(capsys, *[run_id if a == "RUN" else a for a in argv], "--runs-dir", runs)
    assert code == 2 and out == ""
    assert err.startswith("slimcore: error:") and message in err and err.count("\n") == 1


def test_evaluate_refuses_files_that_are_not_pruned_models(trained, capsys, tmp_path):
    runs, run_id = trained
    checkpoint = RunStore(runs).latest_checkpoint(run_id)["path"]
    text = tmp_path / "notes.pt"
    text.write_text("hello")
    for path in (checkpoint, str(text), str(tmp_path / "absent.pt")):
        code, out, err = run_cli(capsys, "evaluate", path, "--json")
        assert code == 2 and err.startswith("slimcore: error:") and err.count("\n") == 1


def test_rank_and_preview_print_json(trained, capsys):
    runs, run_id = trained
    code, out, _ = run_cli(capsys, "rank", run_id, "--ranking", "l1norm", "--json", "--runs-dir", runs)
    ranking = json.loads(out)
    assert code == 0 and ranking["ranking"] == "l1norm" and ranking["groups"][0]["scores"]
    code, out, _ = run_cli(capsys, "preview", run_id, "--points", "7", "--json", "--runs-dir", runs)
    curve = json.loads(out)
    assert code == 0 and set(curve) >= {"base", "points"} and len(curve["points"]) == 7
    assert set(curve["points"][0]) >= {"threshold", "macs", "flops", "params", "accuracy", "widths"}
    code, out, _ = run_cli(capsys, "preview", run_id, "--flops-ratio", "0.5", "--json", "--runs-dir", runs)
    assert code == 0 and json.loads(out)["flops_ratio"] <= 0.5


@pytest.mark.slow
def test_prune_then_evaluate_end_to_end(trained, capsys, tmp_path):
    """CLI prune → CLI evaluate of DIR/model.pt gives exactly report.json's accuracy; the preview's val accuracy
    at that threshold is the committed model's val accuracy."""
    runs, run_id = trained
    code, out, _ = run_cli(capsys, "preview", run_id, "--json", "--runs-dir", runs)
    point = json.loads(out)["points"][8]
    out_dir = tmp_path / "pruned"
    done = subprocess.run([sys.executable, "-m", "slimcore", "prune", run_id, "--threshold", repr(point["threshold"]),
                           "--out", str(out_dir), "--json", "--runs-dir", runs], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # stdout holds the JSON report only
    assert report == json.loads((out_dir / "report.json").read_text())
    assert {p.name for p in out_dir.iterdir()} == {"model.pt", "model.onnx", "report.json"}
    assert report["flops"] == point["flops"] and report["input_shape"] == [1, 1, 8, 8]

    code, out, _ = run_cli(capsys, "evaluate", str(out_dir / "model.pt"), "--split", "test", "--json")
    assert code == 0 and json.loads(out)["accuracy"] == report["accuracy"]
    code, out, _ = run_cli(capsys, "evaluate", str(out_dir / "model.pt"), "--split", "val", "--json")
    assert json.loads(out)["accuracy"] == point["accuracy"] == report["before_finetune"]["val_accuracy"]
    code, out, _ = run_cli(capsys, "evaluate", str(out_dir / "model.pt"), "--dataset", "mnist5k", "--json")
    assert code == 2  # 28×28 data for an 8×8 model: refused with a message, not a shape traceback

    # --threshold 0: the unpruned model in the same format
    code, out, _ = run_cli(capsys, "prune", run_id, "--threshold", "0", "--out", str(tmp_path / "full"), "--json",
                           "--runs-dir", runs)
    full = json.loads(out)
    assert code == 0 and full["flops_ratio"] == 1.0 and full["accuracy"] == full["base"]["test_accuracy"]
    state = torch.load(tmp_path / "full" / "model.pt", weights_only=True)
    assert state["format"] == "slimcore-pruned-model"


def test_a_point_is_what_preview_at_computes_and_the_table_has_a_row_per_point(trained, capsys):
    from slimcore.pruning import get_curve, preview_at

    runs, run_id = trained
    code, out, _ = run_cli(capsys, "preview", run_id, "--threshold", "0.05", "--json", "--runs-dir", runs)
    assert code == 0 and json.loads(out) == json.loads(json.dumps(preview_at(RunStore(runs), run_id, threshold=0.05)))
    code, out, _ = run_cli(capsys, "preview", run_id, "--points", "5", "--runs-dir", runs)
    lines = out.splitlines()
    curve = get_curve(RunStore(runs), run_id, points=5)
    clamped = any(p["clamped"] for p in curve["points"])
    assert code == 0 and lines[0].split() == ["threshold", "FLOPs", "params", "val", "acc", "Δ", "output"]
    assert lines[1].endswith("(unpruned)") and lines[1].split()[:2] == ["-", "100.0%"]
    assert len(lines) == 2 + 5 + clamped
    for line, point in zip(lines[2:], curve["points"]):
        assert line.split()[0] == f"{point['threshold']:.4g}" and line.split()[3] == f"{point['accuracy']:.4f}"
        assert line.split()[4] == f"{point['output_change']:.2e}"
    if clamped:
        assert lines[-1].startswith("clamped: the threshold would remove every channel of some layers; each keeps its 1")


def test_the_tpp_ranking_has_a_point_that_removes_exactly_what_tpp_chose(runs_dir, capsys):
    """On a TPP run, `preview --ranking tpp --json` has a point whose widths are each layer's size minus the
    filters TPP chose; on any other run the ranking is refused in one line."""
    from slimcore.pruning.trained import load_trained

    assert main(["train", "--model", "slimnet", "--dataset", "digits", "--penalty", "tpp", "--epochs", "2",
                 "--runs-dir", str(runs_dir), "--json"]) == 0
    store = RunStore(runs_dir)
    run_id = store.list_runs()[0]["id"]
    capsys.readouterr()
    code, out, _ = run_cli(capsys, "preview", run_id, "--ranking", "tpp", "--points", "5", "--json",
                           "--runs-dir", str(runs_dir))
    assert code == 0
    trained = load_trained(store, run_id)
    state = trained.penalty_state
    want = {state["bn_of"][conv]: int(keep.sum()) for conv, keep in state["masks"].items()}
    [landmark] = [p for p in json.loads(out)["points"] if p.get("landmark")]
    assert {bn: landmark["widths"][bn] for bn in want} == want
    assert all(landmark["widths"][bn] == n for bn, n in trained.structure.bn_sizes.items() if bn not in want)
    assert landmark["removed_channels"] == sum(int((~k).sum()) for k in state["masks"].values()) > 0
