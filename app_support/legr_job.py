"""The LeGR search as a background process, so it survives reruns and page switches like a training job.

    python -m app_support.legr_job --runs-dir DIR RUN_ID

Progress goes to `legr-job.json` in the run's folder (written atomically). A `legr-job.stop` file there (or a
SIGTERM) asks the search to stop after its current candidate, which keeps (and stores) the best one so far; a
file rather than a signal, because a signal that arrives while the process is still importing would kill it.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from slimcore.store.runs import RunStore, pid_alive

ROOT = Path(__file__).resolve().parents[1]
STATUS_FILE = "legr-job.json"
STOP_FILE = "legr-job.stop"


def _status_path(store: RunStore, run_id: str) -> Path:
    return store.run_dir(run_id) / STATUS_FILE


def _write(path: Path, **values) -> None:
    from slimcore.pruning.storage import read_json, write_json

    write_json(path, {**(read_json(path) or {}), **values, "updated": time.time()})


def status(store: RunStore, run_id: str) -> dict | None:
    """The last search job of the run: {status, done, total, message, pid}; a vanished process shows as
    `interrupted`."""
    from slimcore.pruning.storage import read_json

    job = read_json(_status_path(store, run_id))
    if job and job.get("status") in ("starting", "running") and not pid_alive(job.get("pid")):
        job["status"] = "interrupted"
        job["message"] = job.get("message") or "the search process ended unexpectedly"
    return job


def start(store: RunStore, run_id: str) -> int:
    """Starts the search in its own session (it outlives the page and the server); returns its pid."""
    path = _status_path(store, run_id)
    (store.run_dir(run_id) / STOP_FILE).unlink(missing_ok=True)
    _write(path, status="starting", done=0, total=0, message="starting", pid=None, started=time.time())
    with open(store.run_dir(run_id) / "legr-job.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app_support.legr_job", "--runs-dir", str(store.root.resolve()), run_id],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    _write(path, pid=proc.pid)
    return proc.pid


def stop(store: RunStore, run_id: str) -> None:
    """Asks a running search to stop after its current candidate."""
    (store.run_dir(run_id) / STOP_FILE).touch()


def main(argv: list[str] | None = None) -> int:
    stop_flag = {"requested": False}
    signal.signal(signal.SIGTERM, lambda s, f: stop_flag.__setitem__("requested", True))
    parser = argparse.ArgumentParser(prog="python -m app_support.legr_job")
    parser.add_argument("run_id")
    parser.add_argument("--runs-dir", required=True)
    args = parser.parse_args(argv)

    from slimcore.errors import SlimcoreError
    from slimcore.pruning import search_legr

    store = RunStore(args.runs_dir)
    path = _status_path(store, args.run_id)
    _write(path, status="running", pid=os.getpid(), message="loading the run")

    def progress(done: int, total: int, message: str = "") -> None:
        _write(path, status="running", done=done, total=total, message=message)

    try:
        stop_file = store.run_dir(args.run_id) / STOP_FILE
        result = search_legr(store, args.run_id, progress=progress,
                             should_stop=lambda: stop_flag["requested"] or stop_file.exists())
    except SlimcoreError as e:
        _write(path, status="failed", message=str(e))
        return 2
    except BaseException as e:
        _write(path, status="failed", message=f"{type(e).__name__}: {e}")
        raise
    if "alpha" not in result:
        _write(path, status="stopped", message="stopped before the first candidate; nothing was stored")
        return 0
    done = "stopped early; the best candidate so far is stored" if result.get("stopped") else "finished"
    _write(path, status="finished", message=f"{done} (fitness {result.get('fitness', 0):.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
