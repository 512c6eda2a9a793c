"""The `latency` job kind: refused on what cannot be pruned, recorded and run like every job, stops cleanly."""
from __future__ import annotations

import pytest

from slimcore import jobs
from slimcore.errors import StoreError
from slimcore.pruning.latency_curve import LatencySettings, stored_latency


def test_a_latency_job_times_the_curve_and_reports(digits_run):
    store, run_id = digits_run
    settings = LatencySettings(points=2, backends=("torch-cpu",), batch=2, repeats=3)
    job_id = jobs.create(store, "latency", settings, parent=run_id)
    status, message = jobs.run_here(store, job_id)
    assert status == "finished" and "models timed" in message
    assert stored_latency(store, run_id, settings) is not None
    assert store.get_run(job_id)["summary"]["points"] == 2


def test_a_stopped_latency_job_stores_nothing(digits_run):
    store, run_id = digits_run
    settings = LatencySettings(points=2, backends=("torch-cpu",), batch=3, repeats=3)
    job_id = jobs.create(store, "latency", settings, parent=run_id)
    status, message = jobs.run_here(store, job_id, should_stop=lambda: True)
    assert status == "stopped" and stored_latency(store, run_id, settings) is None


def test_a_latency_job_needs_a_prunable_run(tmp_path):
    from slimcore.store import RunStore

    with pytest.raises(StoreError):
        jobs.create(RunStore(tmp_path / "runs"), "latency", LatencySettings(backends=("torch-cpu",)), parent="nope")
