"""Shared fixtures: an isolated run store per test and a tiny, fast training config."""
from __future__ import annotations

import time

import pytest


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    d = tmp_path / "runs"
    monkeypatch.setenv("SLIMCORE_RUNS_DIR", str(d))
    return d


@pytest.fixture
def tiny_config():
    """slimnet on the 8×8 digits: a whole epoch takes well under a second."""
    from slimcore.config import TrainConfig

    return TrainConfig(model="slimnet", dataset="digits", epochs=2, batch_size=64, lr=0.05,
                       snapshot_every=5, penalty="l1", lam=1e-3, penalty_params={"mode": "subgradient"})


def train_l1_digits(runs_dir, epochs: int = 2):
    """(store, run id) of slimnet trained on the 8×8 digits with an ℓ1 penalty on γ: the run the pruning tests cut."""
    from slimcore import jobs
    from slimcore.config import TrainConfig
    from slimcore.store import RunStore

    store = RunStore(runs_dir)
    config = TrainConfig(model="slimnet", dataset="digits", epochs=epochs, penalty="l1", lam=1e-3,
                         penalty_params={"mode": "subgradient"})
    run_id = jobs.create_run(store, config)
    status, message = jobs.run_training(store, run_id, stop_flag={"requested": False})
    assert status == "finished", message
    return store, run_id


def job_log(store, run_id: str) -> str:
    """The tail of a background job's log, for failure messages."""
    path = store.run_dir(run_id) / "job.log"
    return path.read_text(errors="replace")[-3000:] if path.exists() else "(no job.log)"


def wait_for_status(store, run_id: str, statuses, timeout: float = 300) -> dict:
    """The run once its status is one of `statuses`; fails with the job's log after `timeout` seconds
    (generous: on a loaded 2-core machine a cold `import torch` alone can take several seconds)."""
    from slimcore import jobs

    deadline = time.time() + timeout
    while time.time() < deadline:
        run = jobs.view(store, run_id)
        if run["status"] in statuses:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} stayed {jobs.view(store, run_id)['status']}; log:\n{job_log(store, run_id)}")
