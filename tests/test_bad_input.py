"""Bad input, CLI and app alike: one clear line (exit 2 for the CLI), no traceback, and nothing written.

Also what the app exposes: loopback only, no telemetry, and no name built from user text (run ids, labels,
uploaded file names) that can reach outside the runs folder.
"""
from __future__ import annotations

import contextlib
import io
import os
import pickle
import sqlite3
import string
import tomllib
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from slimcore.cli.main import build_parser, main
from slimcore.cli.training import config_from_args
from slimcore.config import TrainConfig
from slimcore.errors import SlimcoreError, StoreError
from slimcore.store import RunStore

from conftest import train_l1_digits

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("runs", "metrics", "snapshots", "checkpoints", "artifacts")


# -- helpers ----------------------------------------------------------------------------------------------
def store_state(runs: Path):
    """Every file under `runs` (size and mtime; the database by content) — equal before and after means
    nothing was written. SQLite's -wal/-shm side files come and go with connections and are left out."""
    if not runs.exists():
        return None
    files = {str(p.relative_to(runs)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(runs.rglob("*"))
             if p.is_file() and not p.name.startswith("slimcore.db")}
    dirs = sorted(str(p.relative_to(runs)) for p in runs.rglob("*") if p.is_dir())
    db = runs / "slimcore.db"
    rows = None
    if db.exists():
        con = sqlite3.connect(db)
        try:
            rows = {t: con.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in TABLES}
        finally:
            con.close()
    return files, dirs, rows


def run_main(capsys, *argv: str) -> tuple[int, str, str]:
    """main(argv) → (exit code, stdout, stderr); argparse's SystemExit counts as its code."""
    try:
        code = main(list(argv))
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, out: str, err: str, message: str = "") -> None:
    assert code == 2, (code, err)
    assert out == ""
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith("slimcore"), err
    assert message in err, (message, err)


def pruned_file(path: Path, change=None) -> Path:
    """A valid pruned model.pt of an untrained slimnet for the 8×8 digits (no pruning needed to test loading),
    then `change(state)` applied to what the file holds."""
    from slimcore.models import create_model
    from slimcore.pruning.export import save_pruned

    save_pruned(create_model("slimnet", 10, 1, 8), path, "slimnet", 10, 1, 8, {"dataset": "digits", "seed": 0})
    if change is not None:
        state = torch.load(path, weights_only=True)
        change(state)
        torch.save(state, path)
    return path


def _set(*keys_and_value):
    """A `change` for pruned_file: sets state[k1][k2]... = value."""
    *keys, value = keys_and_value

    def change(state):
        for k in keys[:-1]:
            state = state[k]
        state[keys[-1]] = value
    return change


class _Touch:
    """Unpickling this would create a file: proof that code in a pickle ran."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def code_pickle(path: Path, marker: Path) -> Path:
    buffer = io.BytesIO()
    torch.save({"format": "slimcore-pruned-model", "state_dict": {"x": _Touch(str(marker))}}, buffer)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A store with one finished training run (slimnet on the 8×8 digits, one epoch)."""
    runs = tmp_path_factory.mktemp("bad-input") / "runs"
    store, run_id = train_l1_digits(runs, epochs=1)
    store.close()
    return runs, run_id


# -- train: unknown names, out-of-range numbers, NaN/inf, empty strings ------------------------------------
@pytest.mark.parametrize("argv, message", [
    (["--schedule", "nope"], "unknown schedule 'nope'"),
    (["--device", "nope"], "unknown device 'nope'"),
    (["--device", "cuda:abc"], "unknown device 'cuda:abc'"),
    (["--device", "cuda:-1"], "unknown device 'cuda:-1'; valid: auto, cpu, cuda, mps, or cuda:N"),
    (["--device", "auto:0"], "unknown device 'auto:0'; valid:"),
    (["--device", "cpu "], "unknown device 'cpu '; valid:"),
    (["--mode", "nope"], "penalty 'tl1': mode must be one of subgradient, proximal, got 'nope'."),
    (["--penalty", "l1", "--a", "1"], "penalty 'l1' has no parameter 'a' (--a); its parameters: --mode."),
    (["--model", "résnet"], "unknown model 'résnet'."),
    (["--penalty", "TL1"], "unknown penalty 'TL1'."),
    (["--lam=-1e-3"], "lam must be >= 0"),
    (["--lam", "1e400"], "lam must be a finite number, got inf."),
    (["--lam", "-inf"], "--flag=VALUE"),  # argparse reads "-inf" as a flag; the message says how to write it
    (["--penalty", "lp", "--p", "0"], "penalty 'lp': p must be a number in (0, 1), got '0'."),
    (["--penalty", "lp", "--p", "1"], "penalty 'lp': p must be a number in (0, 1), got '1'."),
    (["--penalty", "lp", "--p", "nan"], "penalty 'lp': p must be a number in (0, 1), got 'nan'."),
    (["--penalty", "tl1", "--a", "0"], "penalty 'tl1': a must be a number > 0, got '0'."),
    (["--penalty", "tl1", "--a=-1"], "penalty 'tl1': a must be a number > 0, got '-1'."),
    (["--penalty", "tl1", "--a", "inf"], "penalty 'tl1': a must be a number > 0, got 'inf'."),
    (["--penalty", "tpp", "--ratio", "0"], "penalty 'tpp': ratio must be a number in (0, 1), got '0'."),
    (["--penalty", "tpp", "--ratio", "1"], "penalty 'tpp': ratio must be a number in (0, 1), got '1'."),
    (["--penalty", "tpp", "--ratio", "nan"], "penalty 'tpp': ratio must be a number in (0, 1), got 'nan'."),
    (["--penalty", "tpp", "--lam-every", "0"], "penalty 'tpp': lam_every must be an integer >= 1, got '0'."),
    (["--penalty", "ista", "--gamma-lr", "nan"], "penalty 'ista': gamma_lr must be a number > 0, got 'nan'."),
    (["--lr", "0"], "lr must be > 0"),
    (["--lr", "nan"], "lr must be a finite number, got nan."),
    (["--lr", "11"], "lr must be <= 10"),
    (["--epochs", "0"], "epochs must be >= 1"),
    (["--epochs", "99999999999999999999999"], "epochs must be <= 100000"),
    (["--epochs", "1.5"], "invalid int value"),
    (["--batch-size", "0"], "batch_size must be >= 1"),
    (["--momentum", "1"], "momentum must be <= 0.999"),
    (["--weight-decay", "nan"], "weight_decay must be a finite number, got nan."),
    (["--seed=-1"], "seed must be >= 0"),
    (["--snapshot-every", "0"], "snapshot_every must be >= 1, got 0."),
    (["--workers", "1000"], "num_workers must be <= 64, got 1000."),
    (["--dataset", ""], "dataset must be a non-empty name, got ''."),
    (["--penalty", ""], "penalty must be a non-empty name, got ''."),
    (["--schedule", ""], "schedule must be a non-empty name, got ''."),
    (["--device", ""], "device must be a non-empty name, got ''."),
    (["--data-root", ""], "data_root must be a folder path or left unset."),
    (["--data-root", "   "], "data_root must be a folder path or left unset."),
    (["--label", "x" * 81], "label must be text of at most 80 characters."),
    (["--bogus", "1"], "unrecognized arguments"),
])
def test_bad_train_flags_are_one_line_and_write_nothing(tmp_path, capsys, argv, message):
    runs = tmp_path / "runs"
    # digits first (a later flag overrides it): were a case wrongly accepted, its run would be short
    code, out, err = run_main(capsys, "train", "--dataset", "digits", "--epochs", "1", *argv, "--runs-dir", str(runs))
    assert_one_line_error(code, out, err, message)
    assert not runs.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_absent_device_is_refused_before_a_run_is_recorded(tmp_path, capsys):
    runs = tmp_path / "runs"
    code, out, err = run_main(capsys, "train", "--dataset", "digits", "--device", "cuda", "--runs-dir", str(runs))
    assert_one_line_error(code, out, err, "not available on this machine")
    assert not runs.exists()


# -- train: missing or malformed data folders ----------------------------------------------------------
def _cifar10_with_a_corrupt_file(root: Path) -> Path:
    import numpy as np

    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8), "labels": [0, 1, 2, 3]}
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": [str(i) for i in range(10)]}))
    blob = (folder / "data_batch_3").read_bytes()
    (folder / "data_batch_3").write_bytes(blob[: len(blob) // 3])  # truncated mid-file
    return root


def _folders(tmp: Path) -> dict[str, Path]:
    (tmp / "empty").mkdir(parents=True)
    (tmp / "no-classes").mkdir()
    (tmp / "no-classes" / "a.png").write_bytes(b"stray file, no class folder")
    for c in ("cat", "dog"):
        (tmp / "no-images" / c).mkdir(parents=True)
        (tmp / "no-images" / c / "notes.txt").write_text("not an image")
        (tmp / "bad-images" / c).mkdir(parents=True)
        for i in range(3):
            (tmp / "bad-images" / c / f"{i}.png").write_bytes(b"\x89PNG but not really")
    (tmp / "a-file").write_text("not a folder")
    return {"empty": tmp / "empty", "no-classes": tmp / "no-classes", "no-images": tmp / "no-images",
            "bad-images": tmp / "bad-images", "a-file": tmp / "a-file", "missing": tmp / "missing" / "x"}


@pytest.mark.parametrize("dataset, folder, message", [
    ("imagefolder", None, "needs a folder"),
    ("imagefolder", "missing", "no folder at"),
    ("imagefolder", "a-file", "no folder at"),
    ("imagefolder", "empty", "no images found"),
    ("imagefolder", "no-classes", "no images found"),
    ("imagefolder", "no-images", "no images found"),
    ("imagefolder", "bad-images", "cannot read image"),
    ("cifar10", "cifar-corrupt", "not in the CIFAR python format"),
])
def test_missing_or_malformed_data_is_refused_before_a_run_is_recorded(tmp_path, capsys, monkeypatch, dataset,
                                                                        folder, message):
    import slimcore.data.cifar as cifar

    monkeypatch.setattr(cifar, "download_and_extract_archive",
                        lambda *a, **k: pytest.fail("no download may be attempted"))
    folders = _folders(tmp_path / "data")
    folders["cifar-corrupt"] = _cifar10_with_a_corrupt_file(tmp_path / "cifar")
    runs = tmp_path / "runs"
    root = [] if folder is None else ["--data-root", str(folders[folder])]
    code, out, err = run_main(capsys, "train", "--dataset", dataset, *root, "--runs-dir", str(runs))
    assert_one_line_error(code, out, err, message)
    assert not runs.exists()


# -- commands that name a run: bad ids, unknown runs, bad settings ---------------------------------------
BAD_IDS = ["../x", "..", "/etc/passwd", "a/b", "x/../../y", "a\x00b", "abc\n", "", " ", "ü", "-rf"]
COMMANDS = [["stop"], ["resume"], ["rank"], ["preview", "--flops-ratio", "0.5"], ["prune", "--threshold", "0"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("run_id", BAD_IDS, ids=ascii)
def test_path_traversal_in_run_ids_is_refused_by_every_command(trained, tmp_path, capsys, command, run_id):
    runs, _ = trained
    before = store_state(runs)
    argv = [command[0], *command[1:], "--runs-dir", str(runs), "--", run_id]  # "--": the id may start with "-"
    code, out, err = run_main(capsys, *argv)
    assert_one_line_error(code, out, err, "invalid run id")
    assert store_state(runs) == before
    # and in a folder with no store yet: nothing is created at all
    fresh = tmp_path / "fresh"
    code, out, err = run_main(capsys, *[str(fresh) if a == str(runs) else a for a in argv])
    assert code == 2 and not fresh.exists()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_unknown_run_or_missing_store_writes_nothing(trained, tmp_path, capsys, command):
    runs, _ = trained
    before = store_state(runs)
    code, out, err = run_main(capsys, command[0], "no-such-run", *command[1:], "--runs-dir", str(runs))
    assert_one_line_error(code, out, err, "no run 'no-such-run'")
    assert store_state(runs) == before
    fresh = tmp_path / "fresh"
    code, out, err = run_main(capsys, command[0], "no-such-run", *command[1:], "--runs-dir", str(fresh))
    assert_one_line_error(code, out, err, "there is no run store there")
    assert not fresh.exists()


@pytest.mark.parametrize("argv, message", [
    (["stop", "RUN"], "is not running (status: finished)"),
    (["resume", "RUN"], "is finished; only"),
    (["rank", "RUN", "--ranking", "nope"], "unknown ranking 'nope'"),
    (["rank", "RUN", "--min-channels", "0"], "min_channels must be an integer >= 1 (no layer may lose every channel), got 0."),
    (["rank", "RUN", "--ranking", "legr", "--population", "0"], "LeGR population must be an integer >= 1, got 0."),
    (["rank", "RUN", "--ranking", "legr", "--sigma", "nan"], "LeGR sigma must be a number > 0, got nan."),
    (["rank", "RUN", "--ranking", "legr", "--target-flops", "inf"], "flops ratio must be in (0, 1] (the share of FLOPs to keep, 1 = unpruned), got inf."),
    (["preview", "RUN", "--points", "0"], "points must be an integer in 1..1000, got 0."),
    (["preview", "RUN", "--points", "100000"], "points must be an integer in 1..1000, got 100000."),
    (["preview", "RUN", "--ranking", ""], "unknown ranking ''. Valid rankings: bn, bn-mean, bn-sum, l1norm, legr, tpp."),
    (["preview", "RUN", "--flops-ratio", "nan"], "flops ratio must be in (0, 1] (the share of FLOPs to keep, 1 = unpruned), got nan."),
    (["preview", "RUN", "--flops-ratio=-0.5"], "flops ratio must be in (0, 1] (the share of FLOPs to keep, 1 = unpruned), got -0.5."),
    (["preview", "RUN", "--min-channels", "0"], "min_channels must be an integer >= 1 (no layer may lose every channel), got 0."),
    (["prune", "RUN", "--threshold", "nan"], "threshold must be a number, got NaN; channels with a score under it are removed."),
    (["prune", "RUN", "--flops-ratio", "inf"], "flops ratio must be in (0, 1] (the share of FLOPs to keep, 1 = unpruned), got inf."),
    (["prune", "RUN", "--threshold", "0.1", "--finetune-epochs=-1"], "fine-tuning epochs must be an integer in 0..10000, got -1."),
    (["prune", "RUN", "--threshold", "0.1", "--finetune-lr", "0"], "fine-tuning learning rate must be a number in (0, 10], got 0.0."),
    (["prune", "RUN", "--threshold", "0.1", "--finetune-lr", "inf"], "fine-tuning learning rate must be a number in (0, 10], got inf."),
    (["prune", "RUN", "--threshold", "0.1", "--out", ""], "the output folder (--out) is empty; give a folder"),
    (["prune", "RUN", "--threshold", "0.1", "--min-channels", "0"], "min_channels must be an integer >= 1 (no layer may lose every channel), got 0."),
])
def test_bad_settings_of_run_commands_write_nothing(trained, capsys, argv, message):
    runs, run_id = trained
    before = store_state(runs)
    cwd_before = sorted(os.listdir("."))
    code, out, err = run_main(capsys, *[run_id if a == "RUN" else a for a in argv], "--runs-dir", str(runs))
    assert_one_line_error(code, out, err, message)
    assert store_state(runs) == before
    assert sorted(os.listdir(".")) == cwd_before


# -- a run whose checkpoint file is broken or replaced ----------------------------------------------------
def _other_architecture_checkpoint(path: Path) -> None:
    from slimcore.training import Trainer

    config = TrainConfig(model="resnet20", dataset="digits", penalty="l1", lam=1e-3,
                         penalty_params={"mode": "subgradient"})
    Trainer(config, checkpoint_path=path).save_checkpoint()


@pytest.mark.parametrize("damage, message", [
    ("truncated", "not a valid slimcore checkpoint"),
    ("garbage", "not a valid slimcore checkpoint"),
    ("code", "refused for safety"),
    ("plain dict", "not a slimcore training checkpoint"),
    ("other architecture", "checkpoint of model 'resnet20'"),
    ("missing", "last.pt"),
])
@pytest.mark.parametrize("command", [["resume"], ["resume", "--detach"], ["rank"], ["preview", "--flops-ratio", "0.5"],
                                     ["prune", "--threshold", "0"]], ids=" ".join)
def test_a_broken_checkpoint_is_refused_by_every_command_and_nothing_is_written(trained, tmp_path, capsys, damage,
                                                                                 message, command):
    import shutil

    source, run_id = trained
    runs = tmp_path / "runs"
    shutil.copytree(source, runs)
    store = RunStore(runs)
    store.set_status(run_id, "stopped", "stopped at step 5; resume to continue.")  # so that resume may try
    last = Path(store.latest_checkpoint(run_id)["path"].replace(str(source), str(runs)))
    store.add_checkpoint(run_id, 5, 0.5, last)
    marker = tmp_path / "code-ran"
    if damage == "truncated":
        last.write_bytes(last.read_bytes()[:5000])
    elif damage == "garbage":
        last.write_bytes(os.urandom(5000))
    elif damage == "code":
        code_pickle(last, marker)
    elif damage == "plain dict":
        torch.save({"model": {"w": torch.zeros(3)}, "config": {"model": "slimnet"}}, last)
    elif damage == "other architecture":
        _other_architecture_checkpoint(last)
    else:
        last.unlink()
    store.close()
    before = store_state(runs)
    code, out, err = run_main(capsys, command[0], run_id, *command[1:], "--runs-dir", str(runs))
    assert_one_line_error(code, out, err, message)
    assert store_state(runs) == before
    assert not marker.exists()


# -- evaluate: files that are not pruned models -----------------------------------------------------------
def test_evaluate_refuses_bad_files_with_one_line(trained, tmp_path, capsys):
    runs, run_id = trained
    good = pruned_file(tmp_path / "good.pt")
    code, out, err = run_main(capsys, "evaluate", str(good), "--json")
    assert code == 0, err  # the baseline the broken files below are made from
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(os.urandom(4096))
    marker = tmp_path / "code-ran"
    cases = {
        str(truncated): "not a pruned slimcore model",
        str(garbage): "not a pruned slimcore model",
        str(code_pickle(tmp_path / "evil.pt", marker)): "not a pruned slimcore model",
        str(pruned_file(tmp_path / "vgg-record.pt", _set("arch", "model", "resnet20"))): "another architecture",
        str(pruned_file(tmp_path / "no-arch.pt", _set("arch", None))): "truncated pruned model file",
        str(pruned_file(tmp_path / "other-version.pt", _set("version", 99))): "format version 99",
        str(pruned_file(tmp_path / "bad-width.pt", _set("arch", "modules", "features.0", "out_channels", -3))):
            "positive integer",
        str(pruned_file(tmp_path / "bad-weights.pt", _set("state_dict", "features.0.weight", torch.zeros(2)))):
            "do not match the recorded shapes",
        str(RunStore(runs).latest_checkpoint(run_id)["path"]): "training checkpoints",
        str(tmp_path): "is not a file",
        str(tmp_path / "absent.pt"): "does not exist",
        "": "no model file given",
    }
    before = store_state(runs)
    for path, message in cases.items():
        code, out, err = run_main(capsys, "evaluate", path, "--json")
        assert_one_line_error(code, out, err, message)
    code, out, err = run_main(capsys, "evaluate", str(good), "--dataset", "nope")
    assert_one_line_error(code, out, err, "unknown dataset 'nope'")
    code, out, err = run_main(capsys, "evaluate", str(good), "--dataset", "mnist5k")
    assert_one_line_error(code, out, err, "1×8×8 inputs")
    assert not marker.exists()
    assert store_state(runs) == before


# -- a threshold that would prune everything --------------------------------------------------------------
def test_a_threshold_above_every_score_is_clamped_and_says_so(trained, capsys):
    import json

    runs, run_id = trained
    for threshold in ("1e30", "inf"):
        code, out, err = run_main(capsys, "preview", run_id, "--threshold", threshold, "--json", "--runs-dir",
                                  str(runs))
        point = json.loads(out)
        assert code == 0 and point["clamped"] is True
        assert point["threshold"] is not None and point["threshold"] < 1e30  # the threshold actually applied
        assert point["requested_threshold"] == (float(threshold) if threshold != "inf" else "inf")
        assert all(w >= 1 for w in point["widths"].values())
    code, out, err = run_main(capsys, "preview", run_id, "--threshold", "inf", "--runs-dir", str(runs))
    assert code == 0 and "clamped" in out and "keeps its 1 best-scored channel" in out
    code, out, err = run_main(capsys, "preview", run_id, "--threshold", "inf", "--min-channels", "3", "--json",
                              "--runs-dir", str(runs))
    assert all(w >= 3 for w in json.loads(out)["widths"].values())


def test_prune_at_an_infinite_threshold_reports_the_threshold_applied(trained, tmp_path, capsys):
    import json

    runs, run_id = trained
    out_dir = tmp_path / "pruned"
    code, out, err = run_main(capsys, "prune", run_id, "--threshold", "inf", "--out", str(out_dir), "--runs-dir",
                              str(runs))
    assert code == 0, err
    assert "clamped: the threshold would remove every channel" in out
    report = json.loads((out_dir / "report.json").read_text())
    assert report["clamped"] is True and report["requested_threshold"] == "inf"
    assert isinstance(report["threshold"], float) and report["threshold"] == report["threshold"]  # not null/NaN
    assert all(w >= 1 for w in report["widths"].values())
    assert f"Threshold applied: {report['threshold']:.4g}" in out


# -- the run store refuses ids that could escape it, in every method ---------------------------------------
@pytest.mark.parametrize("run_id", ["../x", "/abs/path", "a\x00b", "abc\n", "..", "", "a/../b", 7, None], ids=ascii)
def test_every_store_method_refuses_a_bad_run_id(tmp_path, run_id):
    import numpy as np

    store = RunStore(tmp_path / "runs")
    calls = {
        "set_status": lambda: store.set_status(run_id, "running"),
        "heartbeat": lambda: store.heartbeat(run_id, 0.5),
        "set_layers": lambda: store.set_layers(run_id, []),
        "update_summary": lambda: store.update_summary(run_id, x=1),
        "log_metrics": lambda: store.log_metrics(run_id, 1, 0.1, {"loss": 1.0}),
        "add_snapshot": lambda: store.add_snapshot(run_id, 1, 0.1, False, np.ones(2), np.ones(2)),
        "add_checkpoint": lambda: store.add_checkpoint(run_id, 1, 0.1, tmp_path / "x.pt"),
        "truncate_after": lambda: store.truncate_after(run_id, 0),
        "put_artifact": lambda: store.put_artifact(run_id, "a", "curve"),
        "run_dir": lambda: store.run_dir(run_id),
        "exists": lambda: store.exists(run_id),
        "get_run": lambda: store.get_run(run_id),
        "metrics": lambda: store.metrics(run_id),
        "snapshots": lambda: store.snapshots(run_id),
        "latest_checkpoint": lambda: store.latest_checkpoint(run_id),
        "artifact": lambda: store.artifact(run_id, "a"),
        "artifacts": lambda: store.artifacts(run_id),
    }
    for name, call in calls.items():
        with pytest.raises(StoreError, match="invalid run id"):
            call()
    for table in TABLES:
        assert store._conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0
    assert all(p.name.startswith("slimcore.db") for p in (tmp_path / "runs").iterdir())


@pytest.fixture(scope="module")
def label_store(tmp_path_factory):
    return RunStore(tmp_path_factory.mktemp("labels") / "runs")


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=120))
def test_labels_never_make_a_folder_outside_the_store(label_store, label):
    """Run ids are built from the user's label: whatever it holds, the id is valid and its folder sits in the
    store, one level down."""
    run_id = label_store.create_run({}, label=label)
    folder = label_store.run_dir(run_id)
    assert folder.is_dir() and folder.resolve().parent == label_store.root.resolve()
    assert label_store.get_run(run_id)["id"] == run_id


def test_curve_and_search_files_stay_in_the_run_folder(trained):
    """The file names the pruning engine builds (curves, LeGR search) from user choices are in the run's folder."""
    runs, run_id = trained
    store = RunStore(runs)
    for art in store.artifacts(run_id):
        if art["path"]:
            assert Path(art["path"]).resolve().parent == store.run_dir(run_id).resolve(), art
    from slimcore.pruning import get_curve

    with pytest.raises(SlimcoreError, match="unknown ranking"):
        get_curve(store, run_id, ranking="../../x")


# -- exposure ---------------------------------------------------------------------------------------------
def test_the_server_listens_on_loopback_only_and_sends_no_usage_stats():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["browser"]["gatherUsageStats"] is False
    assert set(config["server"].get("allowedHosts", [])) <= {"localhost", "127.0.0.1"}
    assert config["server"]["maxUploadSize"] <= 200  # MB: an upload cannot fill the disk


# -- fuzz: the parser and the config accept or refuse, never crash ----------------------------------------
def _train_actions() -> dict[str, object]:
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    return {s: a for a in train._actions for s in a.option_strings if s not in ("-h", "--help")}


ACTIONS = _train_actions()
FLAGS = sorted(ACTIONS)
NAMES = ["slimnet", "vgg11", "digits", "mnist5k", "imagefolder", "l1", "lp", "tl1", "ista", "tpp", "none",
         "cosine", "step", "constant", "auto", "cpu", "cuda", "cuda:0", "mps", "proximal", "subgradient"]
# numbers Python parses (some surprising: "1_000", "١", "3.") and strings that are no number at all
NUMBERS = ["0", "1", "-1", "0.5", "1e-3", "nan", "NaN", "inf", "-inf", "+inf", "1e400", "-0", "1e-400",
           str(2**64), str(-(2**70)), "1_000", "١", "3.", ".5", " 7 "]
NOT_NUMBERS = ["0x10", "½", "1e", "--", "-", "", "一"]
wild = st.one_of(st.sampled_from(NAMES + NOT_NUMBERS), st.text(max_size=12))
floats = st.one_of(st.sampled_from(NUMBERS), st.integers(-5, 70).map(str), st.integers(-(2**80), 2**80).map(str),
                   st.floats(allow_nan=True, allow_infinity=True).map(repr), st.floats(0, 1).map(repr))
ints = st.one_of(st.sampled_from(["0", "-1", "1_000", "١", " 7 ", str(2**64)]), st.integers(-5, 70).map(str),
                 st.integers(-(2**80), 2**80).map(str))


def _flag_value(flag: str):
    """A flag with a value of roughly its type (so that many inputs get past argparse), or with no value."""
    action = ACTIONS[flag]
    if action.nargs == 0:  # --detach, --json, --no-amp, ...
        return st.just([flag])
    values = {int: ints, float: floats}.get(action.type, st.one_of(st.sampled_from(NAMES), st.text(max_size=12)))
    # "--flag=-1" is how a value starting with "-" must be written; "--flag 0.5" works for the rest
    return values.map(lambda v: [f"{flag}={v}"] if v.startswith("-") else [flag, v])


typed = st.sampled_from(FLAGS).flatmap(_flag_value)
odd = st.one_of(
    st.tuples(st.sampled_from(FLAGS), wild).map(list),  # any value for any flag
    st.sampled_from([f for f in FLAGS if ACTIONS[f].nargs != 0]).map(lambda f: [f]),  # a value missing
    st.text(alphabet=string.ascii_letters + "-_=", min_size=1, max_size=10).map(lambda s: [f"--{s}"]),
    wild.map(lambda v: [v]),
)


@st.composite
def argv_strategy(draw) -> list[str]:
    """Up to five flags with values of their type, and now and then one odd token among them."""
    parts = draw(st.lists(typed, max_size=5))
    if draw(st.booleans()):
        parts.insert(draw(st.integers(0, len(parts))), draw(odd))
    return [a for p in parts for a in p]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argv_strategy())
@example(["\n"])  # found by this test: a newline echoed into argparse's message made it two lines
def test_fuzzed_train_flags_give_a_config_or_a_clean_refusal(argv):
    parser = build_parser()
    sink = io.StringIO()
    with contextlib.redirect_stderr(sink), contextlib.redirect_stdout(sink):
        try:
            args = parser.parse_args(["train", *argv])
        except SystemExit as e:
            if e.code == 0:  # -h/--help, or an abbreviation of it such as --h: the help text, nothing else
                assert sink.getvalue().startswith("usage: slimcore train"), (argv, sink.getvalue())
                return
            assert e.code == 2, (argv, sink.getvalue())
            assert sink.getvalue().count("\n") == 1 and "Traceback" not in sink.getvalue()
            return
    try:
        config = config_from_args(args)
        config.build_penalty()
    except SlimcoreError as e:
        assert str(e) and "\n" not in str(e), repr(str(e))
        return
    assert isinstance(config, TrainConfig)
    assert TrainConfig.from_dict(config.to_dict()) == config


BAD_VALUES = {
    "--lam": ["-1", "nan", "inf", "1e400", "x"], "--lr": ["0", "nan", "-inf", "100", ""],
    "--epochs": ["0", "-3", "1.5"],
    "--batch-size": ["0", "1e3", str(2**40)], "--momentum": ["1", "nan"], "--weight-decay": ["-1", "inf"],
    "--seed": ["-1", str(2**40)], "--snapshot-every": ["0"], "--workers": ["-1", "65"],
    "--model": ["", "nope", "SLIMNET", "vgg11\x00"], "--dataset": ["", "nope", "../digits"],
    "--penalty": ["", "L1", "nope"], "--schedule": ["", "linear"], "--device": ["", "gpu", "cuda:x", "cpu:-1"],
    "--data-root": ["", " "], "--label": ["x" * 81], "--mode": ["", "prox"], "--p": ["0", "1", "nan"],
    "--a": ["0", "-1", "inf"], "--ratio": ["0", "1", "2"], "--lam-every": ["0"], "--alpha": ["0", "nan"],
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(sorted(BAD_VALUES)).flatmap(lambda f: st.tuples(st.just(f), st.sampled_from(BAD_VALUES[f]))),
       st.sampled_from([[], ["--penalty", "lp"], ["--penalty", "tpp"], ["--penalty", "ista"], ["--json"]]))
def test_main_refuses_bad_train_input_with_exactly_one_line(tmp_path_factory, flag_value, extra):
    flag, bad = flag_value
    if flag in ("--p", "--mode"):
        extra = ["--penalty", "lp"]
    elif flag in ("--ratio", "--lam-every"):
        extra = ["--penalty", "tpp"]
    elif flag == "--alpha":
        extra = ["--penalty", "ista"]
    elif flag == "--a":
        extra = ["--penalty", "tl1"]
    runs = tmp_path_factory.mktemp("fuzz") / "runs"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()) as out:
        try:
            code = main(["train", "--dataset", "digits", "--epochs", "1", *extra, f"{flag}={bad}",
                         "--runs-dir", str(runs)])
        except SystemExit as e:
            code = e.code
    assert code == 2, (flag, bad, err.getvalue())
    assert err.getvalue().count("\n") == 1 and "Traceback" not in err.getvalue(), err.getvalue()
    assert out.getvalue() == ""
    assert not runs.exists()


# -- the app: the Train page and the upload boxes ---------------------------------------------------------
def _page(name: str):
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).switch_page(name)


@pytest.mark.parametrize("folder, message", [
    ("missing", "no folder at"), ("empty", "no images found"), ("no-images", "no images found"),
    ("", "needs a folder"),
])
def test_train_page_bad_data_folder_is_an_error_and_starts_nothing(runs_dir, tmp_path, folder, message):
    folders = _folders(tmp_path / "data")
    at = _page("pages/1_Train.py").run()
    at.selectbox(key="t:dataset").set_value("imagefolder").run()
    at.text_input(key="t:data_root").set_value(str(folders[folder]) if folder else "").run()
    at.button(key="t:start").click().run()
    assert not at.exception, [e.message for e in at.exception]
    errors = [e.value for e in at.error]
    assert any(message in e and "Could not start the run" in e for e in errors), errors
    assert RunStore(runs_dir).list_runs() == []
    assert [p.name for p in runs_dir.iterdir() if not p.name.startswith("slimcore.db")] == []


def _training_checkpoint(tmp_path: Path, **config_changes) -> bytes:
    from slimcore.training import Trainer

    config = TrainConfig(model="slimnet", dataset="digits", epochs=1, penalty="l1", lam=1e-3,
                         penalty_params={"mode": "subgradient"})
    path = tmp_path / "last.pt"
    Trainer(config, checkpoint_path=path).save_checkpoint()
    state = torch.load(path, weights_only=True)
    state["config"].update(config_changes)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def test_prune_page_bad_uploads_are_errors_and_write_nothing(runs_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    good = pruned_file(tmp_path / "model.pt").read_bytes()
    marker = tmp_path / "code-ran"
    buffer = io.BytesIO()
    torch.save({"format": "slimcore-pruned-model", "state_dict": {"x": _Touch(str(marker))}}, buffer)
    uploads = {
        "garbage": (os.urandom(2048), "not a valid checkpoint"),
        "truncated": (good[: len(good) // 2], "not a valid checkpoint"),
        "code": (buffer.getvalue(), "refused for safety"),
        "other-arch pruned": (pruned_file(tmp_path / "r.pt", _set("arch", "model", "resnet20")).read_bytes(),
                              "another architecture"),
        "other-arch checkpoint": (_training_checkpoint(tmp_path, model="resnet20"), "do not fit a 'resnet20'"),
        "bad config": (_training_checkpoint(tmp_path, lr=-1.0), "lr must be"),
        "unknown data set": (pruned_file(tmp_path / "d.pt", _set("meta", "dataset", "nope")).read_bytes(),
                             "unknown dataset"),
        "empty": (b"", "empty"),
    }
    at = _page("pages/2_Prune.py").run()
    assert not at.exception
    listing = sorted(os.listdir(tmp_path))
    for name, (data, message) in uploads.items():
        at.file_uploader[0].set_value(("../../" + name + ".pt", data, "application/octet-stream")).run()
        assert not at.exception, (name, [e.message for e in at.exception])
        errors = [e.value for e in at.error]
        assert any(message in e for e in errors), (name, errors)
        assert all("\n" not in e.strip() for e in errors), errors
    at.file_uploader[0].set_value(("model.pt", good, "application/octet-stream")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "test accuracy" in [m.label for m in at.metric]
    assert not marker.exists()
    assert RunStore(runs_dir).list_runs() == []
    assert [p.name for p in runs_dir.iterdir() if not p.name.startswith("slimcore.db")] == []
    assert sorted(os.listdir(tmp_path)) == listing  # nothing written next to the working folder either
    assert not any((tmp_path / "../.." / f"{name}.pt").exists() for name in uploads)  # the names uploads gave


def test_prune_page_says_when_the_threshold_is_clamped_to_the_minimum_width(trained, monkeypatch):
    from slimcore.pruning import get_curve

    runs, run_id = trained
    get_curve(RunStore(runs), run_id)  # what the page's curve job stores (the page would start one itself)
    monkeypatch.setenv("SLIMCORE_RUNS_DIR", str(runs))
    from threshold_support import positions, release

    at = _page("pages/2_Prune.py").run()
    assert not at.exception, [e.message for e in at.exception]
    release(at, 0)
    assert not any("minimum width" in w.value for w in at.warning)
    release(at, len(positions(at)) - 1)  # the last position: the smallest model the widths allow
    assert not at.exception
    assert any("lose every channel" in w.value and "minimum width" in w.value for w in at.warning), \
        [w.value for w in at.warning]


def test_run_from_the_url_that_escapes_the_store_is_ignored(trained, monkeypatch):
    runs, _ = trained
    monkeypatch.setenv("SLIMCORE_RUNS_DIR", str(runs))
    before = store_state(runs)
    for bad in ("../../etc", "/etc/passwd", "x\x00y"):
        at = _page("pages/1_Train.py")
        at.query_params["run"] = bad
        at.run()
        assert not at.exception, [e.message for e in at.exception]
    assert store_state(runs) == before
