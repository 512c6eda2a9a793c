"""Faults while training: a full disk or an unwritable folder at checkpoint time, a run store that cannot be
written, and divergence. The previous checkpoint survives byte for byte, no temp file stays, the run says what
happened and what to do, and nothing ends in a raw traceback."""
from __future__ import annotations

import errno
import json
import os
import sqlite3
from pathlib import Path

import pytest
import torch

import slimcore.store.checkpoints as checkpoints
from slimcore import jobs
from slimcore.cli.main import main
from slimcore.config import TrainConfig
from slimcore.errors import CheckpointError
from slimcore.store import RunStore, load_checkpoint, save_checkpoint
from slimcore.training import Observer, Trainer

TRAIN = ["train", "--dataset", "digits", "--penalty", "l1", "--lam", "1e-3", "--mode", "subgradient"]


class _FullDisk:
    """A file whose writes fail with ENOSPC once `room` bytes are in, as on a disk that fills up mid-write."""

    def __init__(self, f, room: int) -> None:
        self.f, self.room, self.written = f, room, 0

    def write(self, data) -> int:
        if self.written + len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.written += len(data)
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)


def fill_disk_at(monkeypatch, failing) -> dict:
    """From now on the checkpoint writes numbered in `failing` (1, 2, …) hit a full disk partway through.
    Returns a record: how many writes were tried, and the bytes of the checkpoint file before the first failure."""
    real_save = torch.save
    seen = {"calls": 0, "before": None}

    def save(obj, f, *args, **kwargs):
        seen["calls"] += 1
        if seen["calls"] in failing:
            tmp = Path(os.readlink(f"/proc/self/fd/{f.fileno()}"))  # DIR/last.pt.XXXX.tmp, next to DIR/last.pt
            final = tmp.with_name(tmp.name.removesuffix(".tmp").rsplit(".", 1)[0])
            if seen["before"] is None and final.exists():
                seen["before"] = final.read_bytes()
            return real_save(obj, _FullDisk(f, room=4096), *args, **kwargs)
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(checkpoints.torch, "save", save)
    return seen


def temp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.name.endswith(".tmp")]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- checkpoint files: disk full, unwritable folder -------------------------------------------------------
@pytest.mark.parametrize("fault", ["full disk mid-write", "rename refused", "folder gone"])
def test_a_failed_checkpoint_write_keeps_the_previous_file_byte_identical(tmp_path, monkeypatch, fault):
    path = tmp_path / "run" / "last.pt"
    path.parent.mkdir()
    save_checkpoint({"w": torch.arange(10_000.0)}, path)
    before = path.read_bytes()
    if fault == "full disk mid-write":
        fill_disk_at(monkeypatch, failing={1})
        reason = "No space left on device"
    elif fault == "rename refused":
        def refuse(*args):
            raise OSError(errno.EACCES, os.strerror(errno.EACCES))
        monkeypatch.setattr(checkpoints.os, "replace", refuse)
        reason = "Permission denied"
    else:
        path = tmp_path / "gone" / "last.pt"  # the folder was removed under a running job
        reason = "No such file or directory"
    with pytest.raises(CheckpointError) as error:
        save_checkpoint({"w": torch.zeros(10_000)}, path)
    message = str(error.value)
    assert reason in message and "previous checkpoint is kept" in message and "\n" not in message
    monkeypatch.undo()
    assert (tmp_path / "run" / "last.pt").read_bytes() == before
    assert torch.equal(load_checkpoint(tmp_path / "run" / "last.pt")["w"], torch.arange(10_000.0))
    assert temp_files(tmp_path) == []


def test_a_full_disk_at_one_checkpoint_is_reported_and_training_goes_on(tmp_path, monkeypatch, tiny_config):
    """One epoch's checkpoint fails (the disk filled, then space was freed): the run's message says so while
    it trains, training continues, the next checkpoint succeeds and the run finishes."""
    store = RunStore(tmp_path / "runs")
    run_id = jobs.create_run(store, tiny_config.replace(epochs=3))
    fill_disk_at(monkeypatch, failing={2})  # the checkpoint at the end of epoch 2

    class Watch(Observer):
        messages: list[str] = []

        def on_warning(self, trainer, message):
            self.messages.append(store.get_run(run_id)["message"])

    watch = Watch()
    status, message = jobs.run_training(store, run_id, observers=[watch])
    assert [m for m in watch.messages if "could not write checkpoint" in m], watch.messages
    shown = watch.messages[0]
    assert "No space left on device" in shown and "Free disk space" in shown and "Training goes on" in shown
    assert (status, message) == ("finished", "")
    run = store.get_run(run_id)
    assert run["status"] == "finished" and run["summary"]["epoch"] == 3
    assert store.latest_checkpoint(run_id)["step"] == load_checkpoint(store.run_dir(run_id) / "last.pt")["step"]
    assert temp_files(tmp_path) == []


def test_a_disk_that_stays_full_keeps_the_last_good_checkpoint_and_the_run_says_what_to_do(tmp_path, monkeypatch,
                                                                                            capsys):
    """From epoch 2 on every checkpoint fails: the run cannot be `finished` (its weights are only in memory), so
    it ends `failed` with a message that says why and to resume; epoch 1's checkpoint is untouched, and a
    resume once there is room finishes the run."""
    runs = tmp_path / "runs"
    seen = fill_disk_at(monkeypatch, failing=range(2, 100))
    code, out, err = run_cli(capsys, *TRAIN, "--epochs", "3", "--json", "--runs-dir", str(runs))
    payload = json.loads(out)
    assert code == 1 and payload["status"] == "failed" and "Traceback" not in err
    message = payload["message"]
    for part in ("could not write checkpoint", "No space left on device", "Free disk space", "Resume once"):
        assert part in message, message
    assert seen["calls"] == 3 and seen["before"] is not None
    run_id = payload["run_id"]
    store = RunStore(runs)
    last = store.run_dir(run_id) / "last.pt"
    assert last.read_bytes() == seen["before"]  # epoch 1's checkpoint, byte for byte
    kept = load_checkpoint(last)
    assert kept["epoch"] == 1 and store.latest_checkpoint(run_id)["step"] == kept["step"]
    assert temp_files(runs) == []
    assert store.get_run(run_id)["status"] == "failed"

    monkeypatch.undo()  # space freed
    code, out, err = run_cli(capsys, "resume", run_id, "--json", "--runs-dir", str(runs))
    assert code == 0 and json.loads(out)["status"] == "finished", err
    assert load_checkpoint(last)["epoch"] == 3


def test_a_stop_whose_checkpoint_fails_says_the_older_checkpoint_is_kept(tmp_path, monkeypatch, tiny_config):
    stop = {"now": False}

    class StopMidEpoch(Observer):
        def on_step(self, trainer, info):
            stop["now"] = trainer.epoch == 1 and trainer.batch_in_epoch >= 5

    fill_disk_at(monkeypatch, failing={2})  # epoch 1's checkpoint is written, the stop's is not
    trainer = Trainer(tiny_config.replace(epochs=3), observers=[StopMidEpoch()], stop_requested=lambda: stop["now"],
                      checkpoint_path=tmp_path / "last.pt")
    status, message = trainer.fit()
    assert status == "stopped" and "could not write checkpoint" in message and "Resume once" in message
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 1


# -- the run store itself cannot be written ------------------------------------------------------------------
def test_a_full_run_store_during_training_is_one_clear_error_and_the_store_stays_readable(tmp_path, monkeypatch,
                                                                                          capsys):
    """SQLite's own "database or disk is full" (the file may not grow past its current size) partway through a
    run: the CLI prints one `slimcore: error:` line that names the store and what to do, with no traceback;
    what was recorded before stays readable."""
    real_heartbeat = RunStore.heartbeat
    beats = {"n": 0}

    def heartbeat(self, run_id, *args, **kwargs):
        real_heartbeat(self, run_id, *args, **kwargs)
        beats["n"] += 1
        if beats["n"] == 2:  # the disk is full from here on: the database cannot grow by another page
            pages = self._conn.execute("PRAGMA page_count").fetchone()[0]
            self._conn.execute(f"PRAGMA max_page_count = {pages}")

    monkeypatch.setattr(RunStore, "heartbeat", heartbeat)
    runs = tmp_path / "runs"
    code, out, err = run_cli(capsys, *TRAIN, "--epochs", "3", "--runs-dir", str(runs))
    monkeypatch.undo()
    assert code == 2 and "Traceback" not in err
    errors = [line for line in err.splitlines() if "slimcore: error:" in line]
    assert len(errors) == 1, err
    assert "could not write to the run store" in errors[0] and "database or disk is full" in errors[0]
    assert "Free disk space" in errors[0]

    store = RunStore(runs)  # reopens: still a valid store, with what was written before the failure
    assert store._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    [run] = jobs.runs(store)
    assert run["status"] in ("failed", "interrupted")
    if run["status"] == "failed":
        assert "database or disk is full" in run["message"]
    assert store.metrics(run["id"])["train_loss"]["value"]
    assert store.snapshots(run["id"])


class _FullDatabase:
    """A connection on a full disk: reads work, every write fails as SQLite reports it."""

    def __init__(self, conn) -> None:
        self.conn = conn

    def execute(self, sql, *args):
        if sql.lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE", "REPLACE"):
            raise sqlite3.OperationalError("database or disk is full")
        return self.conn.execute(sql, *args)

    def executemany(self, sql, *args):
        raise sqlite3.OperationalError("database or disk is full")

    def __enter__(self):
        return self.conn.__enter__()

    def __exit__(self, *exc):
        return self.conn.__exit__(*exc)

    def __getattr__(self, name):
        return getattr(self.conn, name)


def test_a_store_that_cannot_record_a_new_run_writes_no_run_folder(tmp_path, monkeypatch, capsys):
    runs = tmp_path / "runs"
    RunStore(runs).close()
    real_init = RunStore.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        self._conn = _FullDatabase(self._conn)

    monkeypatch.setattr(RunStore, "__init__", init)
    code, out, err = run_cli(capsys, *TRAIN, "--runs-dir", str(runs))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "could not write to the run store" in err and "database or disk is full" in err
    assert [p.name for p in runs.iterdir() if not p.name.startswith("slimcore.db")] == []


# -- divergence --------------------------------------------------------------------------------------------
class LrTooLarge(Observer):
    """After the first checkpoint the learning rate becomes far too large (as a bad --lr would be)."""

    kept: tuple[int, bytes] | None = None

    def on_checkpoint(self, trainer, path, step, epoch):
        if self.kept is None:
            self.kept = (step, Path(path).read_bytes())
            trainer.scheduler.base_lrs = [1e4 for _ in trainer.scheduler.base_lrs]


@pytest.fixture(scope="module")
def diverged(tmp_path_factory):
    runs = tmp_path_factory.mktemp("diverged") / "runs"
    store = RunStore(runs)
    config = TrainConfig(model="slimnet", dataset="digits", epochs=3, lr=0.05, schedule="constant",
                         snapshot_every=5, penalty="l1", lam=1e-3, penalty_params={"mode": "subgradient"})
    run_id = jobs.create_run(store, config)
    bump = LrTooLarge()
    status, message = jobs.run_training(store, run_id, observers=[bump])
    return runs, run_id, status, message, bump.kept


def test_divergence_keeps_the_last_good_checkpoint_and_it_loads(diverged):
    runs, run_id, status, message, (step, data) = diverged
    assert status == "diverged" and "--lr" in message and "--lam" in message and "last good checkpoint" in message
    store = RunStore(runs)
    run = store.get_run(run_id)
    assert run["status"] == "diverged" and run["message"] == message
    last = store.run_dir(run_id) / "last.pt"
    assert last.read_bytes() == data and store.latest_checkpoint(run_id)["step"] == step
    state = load_checkpoint(last)
    assert all(torch.isfinite(t).all() for t in state["model"].values() if t.is_floating_point())
    trainer = Trainer(TrainConfig.from_dict(run["config"]))
    trainer.load_state_dict(state)
    assert trainer.step == step
    assert temp_files(runs) == []


def test_resuming_a_diverged_run_is_refused_with_advice_and_changes_nothing(diverged, capsys):
    runs, run_id, *_ = diverged
    store = RunStore(runs)
    before = (store.get_run(run_id)["message"], store.latest_checkpoint(run_id), len(store.snapshots(run_id)))
    for detach in ([], ["--detach"]):
        code, out, err = run_cli(capsys, "resume", run_id, *detach, "--runs-dir", str(runs))
        assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err
        assert "diverged" in err and "lower --lr (was 0.05)" in err and "--lam (was 0.001)" in err
    store = RunStore(runs)
    assert store.get_run(run_id)["status"] == "diverged"
    assert (store.get_run(run_id)["message"], store.latest_checkpoint(run_id), len(store.snapshots(run_id))) == before
    # what the message promises: the last good checkpoint can still be ranked
    code, out, err = run_cli(capsys, "rank", run_id, "--json", "--runs-dir", str(runs))
    assert code == 0 and json.loads(out)["groups"], err


def test_train_page_shows_a_diverged_run_with_advice_and_no_resume(diverged, monkeypatch):
    from streamlit.testing.v1 import AppTest

    runs, run_id, *_ = diverged
    monkeypatch.setenv("SLIMCORE_RUNS_DIR", str(runs))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at = at.switch_page("pages/1_Train.py")
    at.query_params["run"] = run_id
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.button(key="t:resume").disabled
    assert any("Run diverged" in e.value and "--lr" in e.value for e in at.error), [e.value for e in at.error]


def test_temp_files_left_by_a_killed_writer_are_removed_when_the_run_trains_again(tmp_path, tiny_config):
    """A job killed mid-write leaves `last.pt.<random>.tmp`; the next trainer of that run deletes it, and only it."""
    from slimcore.training.trainer import Trainer

    folder = tmp_path / "run"
    folder.mkdir()
    stale = folder / "last.pt.k1ll3d.tmp"
    stale.write_bytes(b"half a checkpoint")
    other = folder / "notes.tmp"
    other.write_text("not ours")
    Trainer(tiny_config.replace(epochs=1), checkpoint_path=folder / "last.pt")
    assert not stale.exists() and other.exists()
