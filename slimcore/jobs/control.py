"""The job system: record a job, run it here or as its own process, follow it, stop it, resume it.

A detached job runs as `python -m slimcore.jobs.worker` in its own session, so it outlives page reruns, page
reloads, the app and the shell that started it. `stop` asks for a graceful end (SIGTERM: the job keeps what it
has done); a job killed outright shows as `interrupted` (`slimcore.jobs.liveness`).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable

from slimcore.errors import ConfigError, SlimcoreError, StoreError, Stopped
from slimcore.jobs.kinds import JOBS, Job
from slimcore.jobs.liveness import observe, process_start_time, silent_but_alive
from slimcore.store.runs import RunStore
from slimcore.store.schema import ACTIVE_STATUSES


# -- recording and starting ---------------------------------------------------------------------------------
def create(store: RunStore, kind: str, settings: Any, parent: str | None = None, label: str | None = None) -> str:
    """Checks a job and records it (status `starting`, nothing run yet); returns its run id."""
    job_kind = JOBS.get(kind)()
    if not isinstance(settings, job_kind.settings_type):
        raise TypeError(f"a {kind} job takes {job_kind.settings_type.__name__}, not {type(settings).__name__}")
    if job_kind.needs_parent and parent is None:
        raise ConfigError(f"a {kind} job works on a training run; name one.")
    job_kind.check(store, parent, settings)
    parent_run = store.get_run(parent) if parent is not None else None
    return store.create_run(settings.to_dict(), kind=kind, parent=parent,
                            label=label or job_kind.label(settings, parent_run))


def launch(store: RunStore, run_id: str, resume: bool = False) -> int:
    """Starts a recorded job as its own process (own session); returns its pid."""
    store.set_job_flags(run_id, stop_requested=False, listening=False)
    store.set_status(run_id, "starting", "job started", pid=0)  # pid 0: starting, not yet a process to watch
    cmd = [sys.executable, "-m", "slimcore.jobs.worker", "--runs-dir", str(store.root.resolve()), run_id]
    if resume:
        cmd.append("--resume")
    log_path = store.run_dir(run_id) / "job.log"
    try:
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, cwd=str(Path.cwd()))
    except OSError as e:
        store.set_status(run_id, "failed", f"could not start the job's process: {e.strerror or e}")
        raise StoreError(f"could not start job {run_id}: {e.strerror or e}.") from e
    store.set_pid(run_id, proc.pid)
    # A long-lived parent (the app's server) must collect its finished children, or they stay <defunct>.
    threading.Thread(target=_reap, args=(proc, log_path), name=f"reap-{proc.pid}", daemon=True).start()
    return proc.pid


def _reap(proc: subprocess.Popen, log_path: Path) -> None:
    """Waits for a launched job; an end by a signal is noted in its log (the job itself could not say so)."""
    code = proc.wait()
    if code < 0:
        try:
            with open(log_path, "a") as log:
                log.write(f"slimcore: the job's process {proc.pid} was ended by signal "
                          f"{signal.Signals(-code).name}\n")
        except (OSError, ValueError):
            pass


def start(store: RunStore, kind: str, settings: Any, parent: str | None = None, label: str | None = None) -> str:
    """Records a job and starts it in the background; returns its run id."""
    run_id = create(store, kind, settings, parent, label)
    launch(store, run_id)
    return run_id


def listen(store: RunStore, run_id: str, flag: dict) -> None:
    """Called once this process answers SIGTERM for job `run_id` (after its pid is recorded): from now on
    `stop` signals it; a stop asked while this process was still starting is honoured here (one asked of an
    earlier process of the same run, before a resume, is not)."""
    store.set_job_flags(run_id, listening=True)
    asked = float(store.get_run(run_id)["stop_requested"] or 0)
    started = process_start_time(os.getpid())
    if asked and (started is None or asked >= started - 1.0):
        flag["requested"] = True


def run_here(store: RunStore, run_id: str, resume: bool = False, stop_flag: dict | None = None,
             echo: Callable[[float, int, str], None] | None = None, should_stop: Callable[[], bool] | None = None,
             **extras: Any) -> tuple[str, str]:
    """Runs recorded job `run_id` in this process to its end; returns (status, message).

    Without `stop_flag`, SIGTERM and Ctrl-C ask for a graceful stop. A SlimcoreError marks the job `failed`
    with its message and is raised again for the caller to show.
    """
    flag = stop_flag if stop_flag is not None else {"requested": False}
    previous = {}
    if stop_flag is None and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda s, f: flag.__setitem__("requested", True))
    try:
        run = store.get_run(run_id)
        job_kind = JOBS.get(run["kind"])()
        settings = job_kind.settings_type.from_dict(run["config"])
        job = Job(store, run_id, settings, run["parent"], resume, flag, should_stop, echo, extras)
        if job_kind.manages_status:
            return job_kind.execute(job)
        store.set_status(run_id, "running", "started", pid=os.getpid())
        listen(store, run_id, flag)
        try:
            status, message = job_kind.execute(job)
        except Stopped as e:
            status, message = "stopped", str(e)
        except SlimcoreError as e:
            store.set_status(run_id, "failed", str(e))
            raise
        except BaseException as e:
            store.set_status(run_id, "failed", f"{type(e).__name__}: {e}")
            raise
        store.set_status(run_id, status, message)
        return status, message
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# -- following and stopping ---------------------------------------------------------------------------------
def view(store: RunStore, run_id: str) -> dict:
    """The run as a user should see it: a job whose process is gone shows as `interrupted`."""
    return observe(store.get_run(run_id))


def runs(store: RunStore, kind: str | None = None, parent: str | None = None) -> list[dict]:
    """Every run (of a kind, of a parent), newest first, as `view` shows them."""
    return [observe(r) for r in store.list_runs(kind, parent)]


def model_runs(store: RunStore) -> list[dict]:
    """Every run that holds a trained model (trained here or imported), newest first: what pruning works on."""
    kinds = {name for name in JOBS.names() if JOBS.get(name).holds_model}
    return [observe(r) for r in store.list_runs() if r["kind"] in kinds]


def holds_model(run: dict) -> bool:
    """True for a run whose kind holds a trained model (train, import)."""
    return run["kind"] in JOBS and JOBS.get(run["kind"]).holds_model


def is_active(run: dict) -> bool:
    return run["status"] in ACTIVE_STATUSES


def latest(store: RunStore, kind: str, parent: str, where: Callable[[dict], bool] | None = None) -> dict | None:
    """The newest job of `kind` on `parent` (whose settings satisfy `where`), or None."""
    return next((r for r in runs(store, kind, parent) if where is None or where(r["config"])), None)


def stop(store: RunStore, run_id: str) -> None:
    """Asks a running job of any kind to stop gracefully: a training checkpoints, a search keeps its best
    candidate, a fine-tune keeps its last whole epoch. Its status becomes `stopped` when it has."""
    run = view(store, run_id)
    if (run["status"] not in ACTIVE_STATUSES and not silent_but_alive(run)) or not run["pid"]:
        raise StoreError(f"run {run_id} is not running (status: {run['status']}).")
    store.set_job_flags(run_id, stop_requested=True)
    if not run["listening"]:
        return  # still starting: it reads the request as soon as it answers signals (`listen`)
    try:
        os.kill(run["pid"], signal.SIGTERM)
    except ProcessLookupError as e:
        raise StoreError(f"run {run_id}'s process {run['pid']} is gone; it shows as interrupted.") from e


def resume(store: RunStore, run_id: str) -> int:
    """Resumes a stopped or interrupted job (of a resumable kind) in the background; returns the pid."""
    run = store.get_run(run_id)
    job_kind = JOBS.get(run["kind"])()
    if not job_kind.resumable:
        raise StoreError(f"run {run_id} is a {run['kind']} job, which cannot be resumed; start a new one.")
    job_kind.check_resumable(store, run_id)
    return launch(store, run_id, resume=True)
