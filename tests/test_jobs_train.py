"""The `train` job (`slimcore.jobs.train`): in the background it starts, reports pid and status, stops (checkpoint
first) and resumes; a run that cannot resume says why; a run that cannot start keeps no `running` status."""
import os
import time

import pytest

from slimcore import jobs
from slimcore.errors import StoreError
from slimcore.store import RunStore

from conftest import wait_for_status


@pytest.mark.slow
def test_background_job_stop_and_resume(tiny_config, tmp_path):
    store = RunStore(tmp_path)
    cfg = tiny_config.replace(epochs=12, snapshot_every=2)
    run_id = jobs.start_training(cfg, store)
    run = store.get_run(run_id)
    assert run["pid"] and run["status"] in ("starting", "running")
    # wait until it has really trained a little, then stop it
    deadline = time.time() + 180
    while not store.snapshots(run_id) or store.get_run(run_id)["progress"] < 0.05:
        assert time.time() < deadline and store.get_run(run_id)["status"] in ("starting", "running")
        time.sleep(0.2)
    jobs.stop(store, run_id)
    stopped = wait_for_status(store, run_id, ("stopped", "failed", "interrupted"), timeout=180)
    assert stopped["status"] == "stopped", stopped["message"]
    ckpt = store.latest_checkpoint(run_id)
    assert ckpt is not None and ckpt["step"] > 0
    with pytest.raises(StoreError, match="not running"):
        jobs.stop(store, run_id)

    jobs.resume(store, run_id)
    finished = wait_for_status(store, run_id, ("finished", "failed", "interrupted", "stopped"), timeout=180)
    assert finished["status"] == "finished", finished["message"]
    assert finished["summary"]["epoch"] == cfg.epochs
    steps = store.metrics(run_id)["train_loss"]["step"]
    assert steps == sorted(set(steps))  # the resumed part did not log a step twice
    with pytest.raises(StoreError, match="only stopped"):
        jobs.check_resumable(store, run_id)


def _run(store, status, checkpoint=True, **config):
    run_id = store.create_run({"lr": 0.05, "lam": 0.001, **config})
    store.set_status(run_id, status, pid=0)
    if checkpoint:
        store.add_checkpoint(run_id, 5, 0.5, store.run_dir(run_id) / "last.pt")
    return run_id


@pytest.mark.parametrize("status", ["stopped", "interrupted", "failed"])
def test_stopped_interrupted_and_failed_runs_with_a_checkpoint_can_resume(tmp_path, status):
    store = RunStore(tmp_path)
    jobs.check_resumable(store, _run(store, status))  # no error
    with pytest.raises(StoreError, match="has no checkpoint yet .it stopped before its first one.; start it anew"):
        jobs.check_resumable(store, _run(store, status, checkpoint=False))


def test_a_run_that_cannot_resume_says_why(tmp_path):
    store = RunStore(tmp_path)
    finished = _run(store, "finished")
    with pytest.raises(StoreError, match=f"^run {finished} is finished; only stopped, interrupted, failed runs can be "
                                         "resumed.$"):
        jobs.check_resumable(store, finished)
    diverged = _run(store, "diverged", lr=0.5, lam=0.01)
    with pytest.raises(StoreError, match=r"diverged .* with a lower --lr \(was 0.5\) or --lam \(was 0.01\); its last "
                                         "good checkpoint stays available"):
        jobs.check_resumable(store, diverged)
    assert jobs.RESUMABLE == ("stopped", "interrupted", "failed")


def test_a_resume_without_a_checkpoint_fails_the_job_that_could_not_start(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run({"model": "slimnet"})  # recorded `starting`, as a launched job is
    with pytest.raises(StoreError, match=f"run {run_id} has no checkpoint to resume from"):
        jobs.run_training(store, run_id, resume=True, stop_flag={"requested": False})
    run = store.get_run(run_id)
    assert run["status"] == "failed" and "no checkpoint to resume from" in run["message"]
    stopped = _run(store, "stopped", checkpoint=False)
    with pytest.raises(StoreError):
        jobs.run_training(store, stopped, resume=True, stop_flag={"requested": False})
    assert store.get_run(stopped)["status"] == "stopped"  # not an active job: its status is kept


def test_a_training_job_in_this_process_records_this_process(tiny_config, tmp_path):
    store = RunStore(tmp_path)
    run_id = jobs.create_run(store, tiny_config.replace(epochs=1, label="here"))
    assert "-here-" in run_id and store.get_run(run_id)["status"] == "starting"
    seen = {}

    from slimcore.training import Observer

    class Watch(Observer):
        def on_start(self, trainer):
            seen.update(store.get_run(run_id))

    assert jobs.run_training(store, run_id, stop_flag={"requested": False}, observers=[Watch()]) == ("finished", "")
    assert seen["pid"] == os.getpid() and seen["listening"] == 1
    run = store.get_run(run_id)
    assert run["status"] == "finished" and run["summary"]["epoch"] == 1
