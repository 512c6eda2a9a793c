"""Whether a job's process still lives (`slimcore.jobs.liveness`): an active run whose process is gone, a zombie, a
stranger that got the pid, or silent too long reads `interrupted` with a message that points to job.log; a job
still starting (pid 0) or a finished run is shown as written."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from slimcore.jobs.liveness import (NEVER_STARTED_S, STALE_HEARTBEAT_S, job_alive, observe, pid_alive, process_start_time,
                                    silent_but_alive)


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def row(**changes) -> dict:
    now = time.time()
    run = {"id": "r", "status": "running", "message": "training on cpu", "progress_message": "", "pid": os.getpid(),
           "heartbeat": now, "updated": now, "created": now}
    return {**run, **changes}


def test_a_dead_process_reads_interrupted_with_what_it_said_last_and_where_its_log_is():
    run = observe(row(pid=dead_pid(), progress_message="epoch 3 of 4"))
    assert (run["status"], run["stored_status"]) == ("interrupted", "running")
    assert run["message"] == ("its job stopped reporting (its process was killed, ran out of memory or lost power); "
                              "last seen: epoch 3 of 4; see job.log in its folder")
    assert observe(row(pid=dead_pid(), message=""))["message"].endswith("lost power); see job.log in its folder")


def test_a_live_job_and_a_finished_run_are_shown_as_written():
    live = observe(row())
    assert (live["status"], live["message"]) == ("running", "training on cpu")
    done = observe(row(status="finished", pid=dead_pid(), heartbeat=0.0))
    assert (done["status"], done["stored_status"]) == ("finished", "finished")


def test_a_stale_heartbeat_reads_interrupted_even_while_the_process_lives():
    run = observe(row(heartbeat=time.time() - STALE_HEARTBEAT_S - 5))
    assert run["status"] == "interrupted" and silent_but_alive(run)
    assert not silent_but_alive(observe(row(heartbeat=time.time() - STALE_HEARTBEAT_S - 5, pid=dead_pid())))
    assert observe(row(heartbeat=time.time() - STALE_HEARTBEAT_S + 30))["status"] == "running"


def test_a_job_still_starting_without_a_process_stays_starting():
    assert observe(row(status="starting", pid=0, heartbeat=None))["status"] == "starting"
    assert observe(row(status="starting", pid=None, heartbeat=time.time()))["status"] == "starting"


def test_a_job_recorded_but_never_given_a_process_reads_interrupted_after_a_while():
    fresh = observe(row(status="starting", pid=None, heartbeat=None))
    assert fresh["status"] == "starting"
    old = observe(row(status="starting", pid=None, heartbeat=None, updated=time.time() - NEVER_STARTED_S - 1))
    assert old["status"] == "interrupted" and "never started" in old["message"]
    launched = observe(row(status="starting", pid=0, heartbeat=None, updated=time.time() - NEVER_STARTED_S - 1))
    assert launched["status"] == "starting"  # pid 0: launched, its process not yet recorded


def test_a_process_that_started_after_the_run_was_last_written_is_not_the_job():
    stranger = subprocess.Popen(["sleep", "30"])
    try:
        time.sleep(0.05)
        assert job_alive(row(pid=stranger.pid, updated=time.time()))
        assert not job_alive(row(pid=stranger.pid, updated=time.time() - 3600))
        assert observe(row(pid=stranger.pid, updated=time.time() - 3600))["status"] == "interrupted"
    finally:
        stranger.kill()
        stranger.wait()


def test_pid_alive_is_false_for_none_gone_and_zombie_processes():
    assert pid_alive(os.getpid()) and not pid_alive(None) and not pid_alive(0) and not pid_alive(dead_pid())
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.time() + 30
        while pid_alive(zombie.pid):  # exited but not yet waited for: a zombie, which is no job
            assert time.time() < deadline, "the child never became a zombie"
            time.sleep(0.05)
        with open(f"/proc/{zombie.pid}/stat") as f:
            assert f.read().rsplit(")", 1)[1].split()[0] == "Z"
    finally:
        zombie.wait()


def test_process_start_time_is_when_the_process_started():
    before = time.time()
    proc = subprocess.Popen(["sleep", "30"])
    try:
        started = process_start_time(proc.pid)
        assert started is not None and before - 2 <= started <= time.time() + 2
        assert process_start_time(os.getpid()) < before
    finally:
        proc.kill()
        proc.wait()
    assert process_start_time(dead_pid()) is None


@pytest.mark.parametrize("status", ["stopped", "failed", "diverged"])
def test_ended_runs_are_never_silent_but_alive(status):
    assert not silent_but_alive(observe(row(status=status, heartbeat=0.0)))
