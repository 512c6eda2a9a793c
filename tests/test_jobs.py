"""Training as a background process: start, report pid and status, stop (checkpoint first), resume."""
import time

import pytest

from slimcore import jobs
from slimcore.errors import StoreError
from slimcore.store import RunStore

from conftest import wait_for_status

pytestmark = pytest.mark.slow


def test_background_job_stop_and_resume(tiny_config, tmp_path):
    store = RunStore(tmp_path)
    cfg = tiny_config.replace(epochs=30, snapshot_every=2)
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
