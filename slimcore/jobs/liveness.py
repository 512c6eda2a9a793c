"""Whether a job's process still lives: the run store records pids and heartbeats, this module reads them.

A run recorded as `starting`/`running` whose process is gone (or that has not beaten for STALE_HEARTBEAT_S)
shows as `interrupted`. A process is the job's only if it started before the run's row was last written, so
a pid the system has since given to another program does not keep a dead run alive.
"""
from __future__ import annotations

import os
import time

from slimcore.store.schema import ACTIVE_STATUSES

# A running job beats at least this often; a silent one is treated as gone.
STALE_HEARTBEAT_S = 600.0
# A job recorded but never given a process (pid unset) for this long was never started: its recorder died.
NEVER_STARTED_S = 120.0
# Slack for clock adjustments when comparing a process's start with the time its run was last written.
_START_SLACK_S = 60.0


def pid_alive(pid: int | None) -> bool:
    """True when a process with this pid exists and is not a zombie."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def process_start_time(pid: int) -> float | None:
    """When process `pid` started (Unix time), from Linux's /proc; None where that cannot be read."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])  # field 22, starttime, in clock ticks since boot
        with open("/proc/stat") as f:
            boot = next(float(line.split()[1]) for line in f if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def job_alive(run: dict) -> bool:
    """True while the process recorded for a run is still that job: it exists, is no zombie, and started before
    the run's row was last written (a later process is another program that was given the freed pid)."""
    pid = run.get("pid")
    if not pid_alive(pid):
        return False
    started = process_start_time(pid)
    return started is None or started <= float(run["updated"]) + _START_SLACK_S


def observe(run: dict) -> dict:
    """The run with its status as a user should see it: `interrupted` when an active job's process is gone or
    silent; `stored_status` keeps what the job last wrote."""
    run = dict(run)
    run["stored_status"] = run["status"]
    if run["status"] in ACTIVE_STATUSES:
        now = time.time()
        stale = run["heartbeat"] is not None and now - run["heartbeat"] > STALE_HEARTBEAT_S
        if run["pid"] is None and run["heartbeat"] is None and now - float(run["updated"]) > NEVER_STARTED_S:
            run["status"] = "interrupted"
            run["message"] = ("its job was recorded but never started (the process that recorded it ended "
                              "first); start it again")
        elif (run["pid"] and not job_alive(run)) or stale:
            run["status"] = "interrupted"
            last = run.get("progress_message") or run["message"]
            run["message"] = ("its job stopped reporting (its process was killed, ran out of memory or lost power)"
                              + (f"; last seen: {last}" if last else "") + "; see job.log in its folder")
    return run


def silent_but_alive(run: dict) -> bool:
    """An active run shown as interrupted (its heartbeat went stale) whose process still lives."""
    return run["stored_status"] in ACTIVE_STATUSES and bool(run["pid"]) and job_alive(run)
