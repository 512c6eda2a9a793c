"""kill -9 of a background training job: the store stays readable, the run reads `interrupted`, and
`slimcore resume` continues from the last checkpoint to the very weights, metrics and γ snapshots of a run
that was never interrupted (CPU, fixed seed), with no step logged twice."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from slimcore import jobs
from slimcore.cli.main import main as cli_main
from slimcore.data import load_dataset
from slimcore.errors import StoreError
from slimcore.store import RunStore, load_checkpoint
from slimcore.jobs.liveness import STALE_HEARTBEAT_S
from slimcore.store.runs import DB_NAME
from slimcore.training.batches import steps_per_epoch

from conftest import job_log, wait_for_status

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

# Generous: on a loaded 2-core machine a cold `import torch` alone can take several seconds.
TIMEOUT = 300


def crash_config(tiny_config, **changes):
    """digits, batch 16: 79 steps an epoch, metrics every 5 steps, so there is room to die mid-epoch."""
    return tiny_config.replace(**{"epochs": 5, "batch_size": 16, "snapshot_every": 5, "device": "cpu", "seed": 3,
                                  **changes})


def epoch_steps(cfg) -> int:
    return steps_per_epoch(len(load_dataset(cfg.dataset, seed=cfg.seed).train), cfg.batch_size)


def last_logged_step(store: RunStore, run_id: str) -> int:
    row = store._conn.execute("SELECT MAX(step) FROM metrics WHERE run_id=? AND name='train_loss'",
                              (run_id,)).fetchone()
    return row[0] if row[0] is not None else -1


def freeze_when(store: RunStore, run_id: str, ready, timeout: float = TIMEOUT) -> dict:
    """Polls until `ready(state)` holds, then SIGSTOPs the job and checks again on the frozen state, so what
    the test saw is exactly what the job leaves behind when it is killed; returns that state."""
    pid = store.get_run(run_id)["pid"]
    deadline = time.time() + timeout
    while time.time() < deadline:
        run = store.get_run(run_id)
        assert run["status"] in ("starting", "running"), f"job ended early: {run}\n{job_log(store, run_id)}"
        if ready(_state(store, run_id)):
            os.kill(pid, signal.SIGSTOP)
            state = _state(store, run_id)
            if ready(state):
                return state
            os.kill(pid, signal.SIGCONT)
        time.sleep(0.05)
    raise AssertionError(f"the job never reached the wanted state within {timeout:.0f} s:\n{job_log(store, run_id)}")


def _state(store: RunStore, run_id: str) -> dict:
    ckpt = store.latest_checkpoint(run_id)
    return {"checkpoint_step": ckpt["step"] if ckpt else None, "last_step": last_logged_step(store, run_id)}


def kill_9(store: RunStore, run_id: str) -> None:
    pid = store.get_run(run_id)["pid"]
    os.kill(pid, signal.SIGKILL)  # a stopped process dies at once too


def integrity(store: RunStore) -> str:
    with sqlite3.connect(store.root / DB_NAME) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def test_kill_9_mid_epoch_then_resume_equals_the_uninterrupted_run(tiny_config, tmp_path, capsys):
    cfg = crash_config(tiny_config)
    n = epoch_steps(cfg)
    store = RunStore(tmp_path / "runs")
    reference = jobs.start_training(cfg.replace(label="reference"), store)
    victim = jobs.start_training(cfg.replace(label="victim"), store)

    # Die with a checkpoint behind (an epoch end) and part of a later epoch logged after it.
    frozen = freeze_when(store, victim, lambda s: s["checkpoint_step"] is not None and s["checkpoint_step"] >= n
                         and s["last_step"] > s["checkpoint_step"] and s["last_step"] % n != 0)
    kill_9(store, victim)
    assert frozen["last_step"] < n * cfg.epochs

    # The store is readable by a fresh opener and the dead job reads `interrupted`, not `running`.
    after = RunStore(tmp_path / "runs")
    run = wait_for_status(after, victim, ("interrupted",), timeout=60)
    assert run["stored_status"] in ("starting", "running")
    assert {r["id"] for r in after.list_runs()} == {reference, victim}
    assert max(after.metrics(victim)["train_loss"]["step"]) == frozen["last_step"]
    assert after.snapshots(victim) and all(s["gamma"].size == sum(l["size"] for l in run["layers"])
                                           for s in after.snapshots(victim))
    assert integrity(after) == "ok"
    assert cli_main(["runs", "--json", "--runs-dir", str(after.root)]) == 0
    listed = {r["run_id"]: r["status"] for r in json.loads(capsys.readouterr().out)}
    assert listed[victim] == "interrupted"

    # `slimcore resume` (its own process, like a user's shell) continues from the checkpoint to the end.
    resumed = subprocess.run([sys.executable, "-m", "slimcore", "resume", victim, "--runs-dir", str(after.root),
                              "--json"], capture_output=True, text=True, timeout=TIMEOUT)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert json.loads(resumed.stdout)["status"] == "finished"
    wait_for_status(after, reference, ("finished", "failed", "interrupted", "diverged"))

    runs = {rid: after.get_run(rid) for rid in (reference, victim)}
    for rid, r in runs.items():
        assert r["status"] == "finished" and r["summary"]["epoch"] == cfg.epochs, (rid, r["message"])

    # Bitwise the same weights as the run that was never killed.
    ref_state = load_checkpoint(after.run_dir(reference) / "last.pt")
    got_state = load_checkpoint(after.run_dir(victim) / "last.pt")
    assert ref_state["step"] == got_state["step"] == n * cfg.epochs
    assert ref_state["model"].keys() == got_state["model"].keys()
    for name, tensor in ref_state["model"].items():
        assert torch.equal(tensor, got_state["model"][name]), name

    # The rows past the checkpoint were replaced, not duplicated: the same steps and values as the reference.
    ref_metrics, got_metrics = after.metrics(reference), after.metrics(victim)
    assert ref_metrics.keys() == got_metrics.keys()
    for name, series in got_metrics.items():
        assert series["step"] == sorted(set(series["step"])), f"{name}: a step was logged twice"
        assert series["step"] == ref_metrics[name]["step"], name
        if name != "epoch_seconds":
            assert series["value"] == ref_metrics[name]["value"], name
    assert len(got_metrics["train_loss"]["step"]) == len(ref_metrics["train_loss"]["step"])
    ref_snaps, got_snaps = after.snapshots(reference), after.snapshots(victim)
    assert [(s["step"], s["at_epoch_end"]) for s in got_snaps] == [(s["step"], s["at_epoch_end"]) for s in ref_snaps]
    for a, b in zip(ref_snaps, got_snaps):
        assert np.array_equal(a["gamma"], b["gamma"]) and np.array_equal(a["beta"], b["beta"]), a["step"]
    assert integrity(after) == "ok"


def test_kill_9_before_the_first_checkpoint_says_start_anew(tiny_config, tmp_path):
    cfg = crash_config(tiny_config, batch_size=4, epochs=2)  # a long first epoch to die in
    store = RunStore(tmp_path / "runs")
    run_id = jobs.start_training(cfg, store)
    freeze_when(store, run_id, lambda s: s["checkpoint_step"] is None and s["last_step"] > 0)
    kill_9(store, run_id)
    wait_for_status(store, run_id, ("interrupted",), timeout=60)
    assert store.metrics(run_id)["train_loss"]["step"]  # what it logged is still there to look at
    with pytest.raises(StoreError, match="no checkpoint yet"):
        jobs.resume(store, run_id)
    assert integrity(store) == "ok"


def test_recording_a_checkpoint_is_one_transaction(tmp_path):
    """The old checkpoint row is replaced in one transaction: a job that dies (here: a failing insert) between
    dropping the old row and adding the new one leaves the old row, so the run stays resumable."""
    store = RunStore(tmp_path)
    run_id = store.create_run({})
    store.add_checkpoint(run_id, 10, 0.5, tmp_path / "last.pt")
    store._conn.execute("CREATE TEMP TRIGGER die BEFORE INSERT ON checkpoints BEGIN SELECT RAISE(ABORT, 'killed'); END")
    with pytest.raises(StoreError):
        store.add_checkpoint(run_id, 20, 1.0, tmp_path / "last.pt")
    store._conn.execute("DROP TRIGGER die")
    assert RunStore(tmp_path).latest_checkpoint(run_id)["step"] == 10


def _sleeper() -> subprocess.Popen:
    return subprocess.Popen(["sleep", "120"], start_new_session=True)


def test_a_reused_pid_does_not_keep_a_dead_run_running(tmp_path):
    """After a crash the system may give the job's pid to another program: the run still reads interrupted,
    and `stop` does not signal that stranger."""
    store = RunStore(tmp_path)
    run_id = store.create_run({})
    store.set_status(run_id, "running", "training", pid=999_999)
    store._conn.execute("UPDATE runs SET updated=updated-3600 WHERE id=?", (run_id,))  # the job's last write
    stranger = _sleeper()  # started after that write: it cannot be the job
    try:
        store._conn.execute("UPDATE runs SET pid=? WHERE id=?", (stranger.pid, run_id))
        assert jobs.view(store, run_id)["status"] == "interrupted"
        with pytest.raises(StoreError):
            jobs.stop(store, run_id)
        time.sleep(0.2)
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


def test_a_silent_but_live_job_is_not_resumed_twice(tmp_path):
    """A job whose heartbeat went stale reads interrupted, but while its process lives a resume would make two
    writers of one run: resume is refused with the way out, and `stop` still reaches the process."""
    job = _sleeper()
    try:
        time.sleep(0.05)
        store = RunStore(tmp_path)
        run_id = store.create_run({})
        store.set_status(run_id, "running", "training", pid=job.pid)
        store.set_job_flags(run_id, listening=True)  # as a job does once it answers SIGTERM
        store.add_checkpoint(run_id, 10, 0.5, tmp_path / "last.pt")
        store._conn.execute("UPDATE runs SET heartbeat=heartbeat-? WHERE id=?", (STALE_HEARTBEAT_S + 60, run_id))
        assert jobs.view(store, run_id)["status"] == "interrupted"
        with pytest.raises(StoreError, match="still alive"):
            jobs.check_resumable(store, run_id)
        jobs.stop(store, run_id)
        assert job.wait(timeout=30) == -signal.SIGTERM
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()


def test_kill_9_after_a_mid_epoch_checkpoint_loses_less_and_resumes_exactly(tiny_config, tmp_path):
    """With --checkpoint-every, a crash loses at most that many steps, and the resume is still exact."""
    cfg = crash_config(tiny_config, epochs=2, checkpoint_every=20)
    n = epoch_steps(cfg)
    store = RunStore(tmp_path / "runs")
    reference = jobs.start_training(cfg.replace(label="reference"), store)
    victim = jobs.start_training(cfg.replace(label="victim"), store)
    frozen = freeze_when(store, victim, lambda s: s["checkpoint_step"] is not None and s["checkpoint_step"] % n != 0
                         and s["last_step"] > s["checkpoint_step"])
    kill_9(store, victim)
    assert frozen["last_step"] - frozen["checkpoint_step"] <= cfg.checkpoint_every
    wait_for_status(store, victim, ("interrupted",), timeout=60)
    resumed = subprocess.run([sys.executable, "-m", "slimcore", "resume", victim, "--runs-dir", str(store.root)],
                             capture_output=True, text=True, timeout=TIMEOUT)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    wait_for_status(store, reference, ("finished", "failed", "interrupted", "diverged"))
    ref_state = load_checkpoint(store.run_dir(reference) / "last.pt")
    got_state = load_checkpoint(store.run_dir(victim) / "last.pt")
    assert ref_state["step"] == got_state["step"] == n * cfg.epochs
    for name, tensor in ref_state["model"].items():
        assert torch.equal(tensor, got_state["model"][name]), name
    steps = store.metrics(victim)["train_loss"]["step"]
    assert steps == store.metrics(reference)["train_loss"]["step"]
