"""The entry point of a background job (`slimcore.jobs.worker`): it runs the recorded job to its end and exits 0 for
finished or stopped, 1 for any other end, 2 with one error line for a job that cannot run; a SIGTERM before the
job starts is a graceful stop, not a kill."""
from __future__ import annotations

import signal

import pytest

from slimcore import jobs
from slimcore.jobs import worker
from slimcore.pruning.settings import CurveSettings
from slimcore.store import RunStore


@pytest.fixture
def restore_signals():
    """worker.main installs its own SIGTERM/SIGINT handlers, as it should in its process; put pytest's back."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    worker._stop["requested"] = False
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)
    worker._stop["requested"] = False


def test_a_recorded_job_runs_to_its_end_and_exits_0(digits_run, restore_signals):
    store, run_id = digits_run
    job_id = jobs.create(store, "curve", CurveSettings(points=2, min_channels=5, recompute=True), parent=run_id)
    assert worker.main(["--runs-dir", str(store.root), job_id]) == 0
    assert jobs.view(store, job_id)["status"] == "finished"
    assert signal.getsignal(signal.SIGTERM) is worker._request_stop  # installed before the slow imports


def test_a_stop_that_arrives_while_starting_ends_the_job_stopped(digits_run, restore_signals):
    store, run_id = digits_run
    job_id = jobs.create(store, "curve", CurveSettings(points=2, min_channels=6, recompute=True), parent=run_id)
    worker._request_stop(signal.SIGTERM, None)  # as if SIGTERM came during the imports
    assert worker.main(["--runs-dir", str(store.root), job_id]) == 0
    run = jobs.view(store, job_id)
    assert run["status"] == "stopped" and "nothing was stored" in run["message"]


def test_a_job_that_cannot_run_is_one_error_line_and_exit_2(tmp_path, capsys, restore_signals):
    store = RunStore(tmp_path)
    job_id = store.create_run(CurveSettings().to_dict(), kind="curve", parent="20240101-000000-gone-abcd")
    assert worker.main(["--runs-dir", str(tmp_path), job_id]) == 2
    err = capsys.readouterr().err
    assert err == "slimcore: error: no run '20240101-000000-gone-abcd' in " + str(tmp_path) + \
        "; list runs with `slimcore runs`.\n"
    assert store.get_run(job_id)["status"] == "failed"


def test_a_job_that_ends_otherwise_exits_1(tmp_path, monkeypatch, restore_signals):
    store = RunStore(tmp_path)
    job_id = store.create_run({}, kind="curve")
    monkeypatch.setattr(jobs, "run_here", lambda *a, **k: ("diverged", "loss became NaN"))
    assert worker.main(["--runs-dir", str(tmp_path), job_id]) == 1
