"""Training runs as jobs: in this process (foreground) or as their own process that outlives the app."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from slimcore.config import TrainConfig
from slimcore.errors import SlimcoreError, StoreError
from slimcore.store.checkpoints import load_checkpoint
from slimcore.store.runs import RunStore

RESUMABLE = ("stopped", "interrupted", "failed", "diverged")


def create_run(store: RunStore, config: TrainConfig) -> str:
    """Records a new training run (status `starting`) and returns its id."""
    label = config.label or f"{config.model}-{config.penalty}"
    return store.create_run(config.to_dict(), kind="train", label=label)


def run_training(store: RunStore, run_id: str, resume: bool = False, stop_flag: dict | None = None,
                 observers=()) -> tuple[str, str]:
    """Trains run `run_id` in this process, recording everything in `store`; returns (status, message).

    SIGTERM/SIGINT request a clean stop (checkpoint, then status `stopped`).
    """
    from slimcore.training.observers import StoreRecorder
    from slimcore.training.trainer import Trainer

    flag = stop_flag if stop_flag is not None else {"requested": False}
    previous = {}
    if stop_flag is None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda s, f: flag.__setitem__("requested", True))
    run = store.get_run(run_id)
    store.set_status(run_id, "starting", "loading data and model", pid=os.getpid())
    try:
        config = TrainConfig.from_dict(run["config"])
        trainer = Trainer(config, observers=[StoreRecorder(store, run_id), *observers],
                          stop_requested=lambda: flag["requested"],
                          checkpoint_path=store.run_dir(run_id) / "last.pt")
        if resume:
            ckpt = store.latest_checkpoint(run_id)
            if ckpt is None:
                raise StoreError(f"run {run_id} has no checkpoint to resume from; start a new run instead.")
            trainer.load_state_dict(load_checkpoint(ckpt["path"]))
        return trainer.fit()
    except SlimcoreError as e:
        store.set_status(run_id, "failed", str(e))
        raise
    except BaseException as e:
        store.set_status(run_id, "failed", f"{type(e).__name__}: {e}")
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def launch(store: RunStore, run_id: str, resume: bool = False) -> int:
    """Starts the run as its own process (own session: survives app reruns and restarts); returns its pid."""
    log_path = store.run_dir(run_id) / "job.log"
    cmd = [sys.executable, "-m", "slimcore.worker", "--runs-dir", str(store.root.resolve()), run_id]
    if resume:
        cmd.append("--resume")
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=str(Path.cwd()))
    store.set_status(run_id, "starting", "job started", pid=proc.pid)
    return proc.pid


def start_training(config: TrainConfig, store: RunStore) -> str:
    """Creates a run and starts it in the background; returns the run id."""
    run_id = create_run(store, config)
    launch(store, run_id)
    return run_id


def check_resumable(store: RunStore, run_id: str) -> None:
    """Raises a StoreError that says why a run cannot be resumed."""
    run = store.get_run(run_id)
    if run["status"] not in RESUMABLE:
        raise StoreError(f"run {run_id} is {run['status']}; only {', '.join(RESUMABLE)} runs can be resumed.")
    if store.latest_checkpoint(run_id) is None:
        raise StoreError(f"run {run_id} has no checkpoint yet (it stopped before its first one); start it anew.")


def resume_training(store: RunStore, run_id: str) -> int:
    """Resumes a stopped or interrupted run in the background from its last checkpoint; returns the pid."""
    check_resumable(store, run_id)
    return launch(store, run_id, resume=True)


def stop_training(store: RunStore, run_id: str) -> None:
    """Asks a running job to checkpoint and stop (SIGTERM); its status becomes `stopped`."""
    run = store.get_run(run_id)
    if run["status"] not in ("starting", "running") or not run["pid"]:
        raise StoreError(f"run {run_id} is not running (status: {run['status']}).")
    try:
        os.kill(run["pid"], signal.SIGTERM)
    except ProcessLookupError as e:
        raise StoreError(f"run {run_id}'s process {run['pid']} is gone; it shows as interrupted.") from e
