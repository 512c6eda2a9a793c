"""The job system (`slimcore.jobs.control`): record, check, launch, stop (also before the job listens), reap."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from slimcore import jobs
from slimcore.config import TrainConfig
from slimcore.errors import CheckpointError, ConfigError, StoreError
from slimcore.pruning.settings import CurveSettings, LegrSettings
from slimcore.store import RunStore

from conftest import train_l1_digits, wait_for_status


@pytest.fixture
def trained(digits_run):
    return digits_run


def test_every_job_kind_is_in_the_registry():
    assert jobs.JOBS.names() == ["curve", "import", "latency", "prune", "search", "sensitivity", "train"]
    for name in jobs.JOBS.names():
        kind = jobs.JOBS.get(name)
        assert kind.name == name and kind.describe()


def test_create_checks_before_anything_is_recorded(trained):
    store, run_id = trained
    before = [r["id"] for r in store.list_runs()]
    with pytest.raises(TypeError, match="takes CurveSettings"):
        jobs.create(store, "curve", LegrSettings(), parent=run_id)
    with pytest.raises(ConfigError, match="works on a training run"):
        jobs.create(store, "search", LegrSettings())
    with pytest.raises(StoreError, match="no run 'nope'"):
        jobs.create(store, "search", LegrSettings(), parent="nope")
    with pytest.raises(ConfigError, match="unknown job kind 'sort'"):
        jobs.create(store, "sort", LegrSettings(), parent=run_id)
    assert [r["id"] for r in store.list_runs()] == before


def test_a_job_run_here_records_its_progress_settings_and_result(trained):
    store, run_id = trained
    seen = []
    job_id = jobs.create(store, "curve", CurveSettings(points=4, recompute=True), parent=run_id)
    assert store.get_run(job_id)["status"] == "starting" and store.get_run(job_id)["parent"] == run_id
    status, message = jobs.run_here(store, job_id, echo=lambda d, t, m: seen.append((d, t)))
    run = jobs.view(store, job_id)
    assert (status, run["status"]) == ("finished", "finished") and "4 points" in message
    assert seen[-1] == (5, 5) and (run["done"], run["total"], run["progress"]) == (5, 5, 1.0)
    assert run["pid"] == os.getpid() and run["listening"] == 1
    assert CurveSettings.from_dict(run["config"]) == CurveSettings(points=4, recompute=True)


def test_a_job_that_fails_records_why_and_raises(tmp_path):
    # its own store: copying a store this process has open would drop SQLite's locks on it (POSIX close semantics)
    store, run_id = train_l1_digits(tmp_path / "runs", epochs=1)
    job_id = jobs.create(store, "curve", CurveSettings(points=2), parent=run_id)
    store.add_checkpoint(run_id, 1, 1.0, tmp_path / "gone.pt")  # the checkpoint vanishes between check and run
    with pytest.raises(CheckpointError, match="cannot be read"):
        jobs.run_here(store, job_id)
    run = jobs.view(store, job_id)
    assert run["status"] == "failed" and "gone.pt" in run["message"]


def test_a_stop_asked_before_the_job_listens_is_honoured_when_it_does(trained):
    store, run_id = trained
    job_id = jobs.create(store, "search", LegrSettings(population=2, sample=1, generations=2, steps=1),
                         parent=run_id)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        store.set_status(job_id, "starting", "job started", pid=sleeper.pid)
        jobs.stop(store, job_id)  # not listening yet: no signal, which would kill a process still importing
        time.sleep(0.3)
        assert sleeper.poll() is None and store.get_run(job_id)["stop_requested"] > 0
    finally:
        sleeper.kill()
        sleeper.wait()
    status, message = jobs.run_here(store, job_id)  # this process answers signals now and reads the request
    assert status == "stopped" and "nothing was stored" in message


def test_a_stop_asked_of_an_earlier_process_does_not_stop_a_resume(tmp_path):
    """A stop request stays recorded after the job stopped; a later run of the same job (a foreground resume,
    which no launcher resets) must not read it as its own."""
    store, run_id = train_l1_digits(tmp_path / "runs", epochs=1)
    store.set_job_flags(run_id, stop_requested=True)
    store._conn.execute("UPDATE runs SET stop_requested=stop_requested-3600 WHERE id=?", (run_id,))  # an hour ago
    flag = {"requested": False}
    jobs.listen(store, run_id, flag)
    assert flag["requested"] is False
    store.set_job_flags(run_id, stop_requested=True)  # asked now, while this process runs: honoured
    jobs.listen(store, run_id, flag)
    assert flag["requested"] is True


def test_stop_right_after_launch_ends_stopped_not_killed(trained):
    store, run_id = trained
    job_id = jobs.start(store, "search", LegrSettings(generations=400), parent=run_id)
    jobs.stop(store, job_id)
    run = wait_for_status(store, job_id, ("stopped", "finished", "failed", "interrupted"), timeout=120)
    assert run["status"] == "stopped", run["message"]


def test_finished_jobs_are_reaped_by_the_process_that_launched_them(trained):
    store, run_id = trained
    job_id = jobs.start(store, "curve", CurveSettings(points=2, recompute=True), parent=run_id)
    run = wait_for_status(store, job_id, ("finished", "failed", "interrupted"), timeout=120)
    assert run["status"] == "finished", run["message"]
    deadline = time.time() + 10
    while time.time() < deadline:  # the reaper thread waits on the child as soon as it exits
        try:
            with open(f"/proc/{run['pid']}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return
        assert state != "Z" or time.time() < deadline - 5, "a finished job stayed <defunct>"
        time.sleep(0.2)


def test_only_resumable_kinds_resume_and_only_active_jobs_stop(trained):
    store, run_id = trained
    job_id = jobs.create(store, "curve", CurveSettings(points=2), parent=run_id)
    store.set_status(job_id, "stopped", "")
    with pytest.raises(StoreError, match="cannot be resumed"):
        jobs.resume(store, job_id)
    with pytest.raises(StoreError, match="is not running .status: stopped"):
        jobs.stop(store, job_id)


def test_latest_finds_the_newest_job_of_a_kind_on_a_run(trained):
    store, run_id = trained
    first = jobs.create(store, "curve", CurveSettings(ranking="l1norm", points=3), parent=run_id)
    time.sleep(0.01)
    second = jobs.create(store, "curve", CurveSettings(ranking="bn", points=3), parent=run_id)
    assert jobs.latest(store, "curve", run_id)["id"] == second
    assert jobs.latest(store, "curve", run_id, where=lambda c: c["ranking"] == "l1norm")["id"] == first
    assert jobs.latest(store, "prune", "no-such-parent") is None


def test_training_is_a_job_like_the_others(tmp_path):
    store = RunStore(tmp_path)
    run_id = jobs.create_run(store, TrainConfig(dataset="digits", epochs=1, label="x"))
    run = store.get_run(run_id)
    assert run["kind"] == "train" and run["parent"] is None and "-x-" in run_id
    assert TrainConfig.from_dict(run["config"]) == TrainConfig(dataset="digits", epochs=1, label="x")
