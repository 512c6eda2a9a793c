"""`slimcore rank --ranking legr --detach`, `slimcore prune --detach`, `slimcore runs`, `slimcore stop` and kill -9:
the pruning jobs are started, listed, stopped and lost like training runs."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from slimcore import jobs
from slimcore.cli.main import main

from conftest import train_l1_digits, wait_for_status

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

# Sized so neither job can end by itself before the test stops or kills it.
LONG_SEARCH = ["--ranking", "legr", "--generations", "5000"]
LONG_PRUNE = ["--flops-ratio", "0.5", "--finetune-epochs", "2000"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    runs = tmp_path_factory.mktemp("cli-jobs")
    store, run_id = train_l1_digits(runs)
    return store, run_id


def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def detached(capsys, store, *argv) -> dict:
    code, out, err = cli(capsys, *argv, "--detach", "--json", "--runs-dir", str(store.root))
    assert code == 0, err
    started = json.loads(out)
    assert set(started) >= {"run_id", "kind", "parent", "pid", "status"}
    return started


def listed(capsys, store) -> dict[str, dict]:
    code, out, _ = cli(capsys, "runs", "--json", "--runs-dir", str(store.root))
    assert code == 0
    return {row["run_id"]: row for row in json.loads(out)}


def wait_for_progress(store, run_id: str, timeout: float = 180) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        run = jobs.view(store, run_id)
        if run["status"] == "running" and run["done"] > 0:
            return run
        assert run["status"] in ("starting", "running"), run["message"]
        time.sleep(0.2)
    raise AssertionError(f"job {run_id} reported no progress")


def test_detached_search_and_prune_are_listed_with_progress_and_stop_cleanly(trained, capsys):
    store, run_id = trained
    search = detached(capsys, store, "rank", run_id, *LONG_SEARCH)
    prune = detached(capsys, store, "prune", run_id, *LONG_PRUNE)
    assert (search["kind"], prune["kind"]) == ("search", "prune")
    assert search["parent"] == prune["parent"] == run_id and search["status"] == prune["status"] == "starting"

    wait_for_progress(store, search["run_id"])
    wait_for_progress(store, prune["run_id"])
    rows = listed(capsys, store)
    for job, kind in ((search, "search"), (prune, "prune")):
        row = rows[job["run_id"]]
        assert row["kind"] == kind and row["status"] == "running" and row["parent"] == run_id
        assert 0 < row["progress"] < 1 and row["progress_done"] > 0 and row["progress_total"] > row["progress_done"]
        assert row["progress_message"] and row["model"] == "slimnet" and row["penalty"] == "l1"
    assert rows[search["run_id"]]["settings"]["generations"] == 5000
    assert rows[prune["run_id"]]["settings"]["finetune"]["epochs"] == 2000
    code, out, _ = cli(capsys, "runs", "--kind", "prune", "--runs-dir", str(store.root))
    assert code == 0 and prune["run_id"] in out and search["run_id"] not in out

    code, out, err = cli(capsys, "stop", search["run_id"], "--runs-dir", str(store.root))
    assert code == 0 and "stopped" in out, err
    stopped = jobs.view(store, search["run_id"])
    assert stopped["status"] == "stopped" and "best candidate so far is stored" in stopped["message"]
    assert store.artifact(run_id, "legr") is not None  # the best candidate is the run's LeGR ranking now

    code, out, err = cli(capsys, "stop", prune["run_id"], "--runs-dir", str(store.root))
    assert code == 0 and "stopped" in out, err
    stopped = jobs.view(store, prune["run_id"])
    assert stopped["status"] == "stopped", stopped["message"]
    assert "weights of epoch" in stopped["message"] or "cut model is kept" in stopped["message"]
    report = json.loads((store.run_dir(prune["run_id"]) / "report.json").read_text())
    assert report["finetune"]["status"] == "stopped" and report["finetune"]["epochs_done"] < 2000
    assert (store.run_dir(prune["run_id"]) / "model.onnx").is_file()
    code, _, err = cli(capsys, "stop", prune["run_id"], "--runs-dir", str(store.root))
    assert code == 2 and "is not running (status: stopped)" in err


@pytest.mark.parametrize("command", [["rank", "RUN", *LONG_SEARCH], ["prune", "RUN", *LONG_PRUNE]],
                         ids=lambda c: c[0])
def test_kill_9_of_a_pruning_job_shows_interrupted(trained, capsys, command):
    store, run_id = trained
    job = detached(capsys, store, *[run_id if a == "RUN" else a for a in command])
    wait_for_progress(store, job["run_id"])
    os.kill(job["pid"], signal.SIGKILL)
    run = wait_for_status(store, job["run_id"], ("interrupted",), timeout=60)
    assert "job.log" in run["message"]
    assert listed(capsys, store)[job["run_id"]]["status"] == "interrupted"
    code, _, err = cli(capsys, "stop", job["run_id"], "--runs-dir", str(store.root))
    assert code == 2 and "status: interrupted" in err


def test_detach_returns_before_the_job_has_done_anything(trained, tmp_path):
    """`--detach` checks the request and records the job, then returns: measured as a separate process, it is
    done before the job it started has reported its first step of progress."""
    store, run_id = trained
    out = subprocess.run([sys.executable, "-m", "slimcore", "prune", run_id, *LONG_PRUNE, "--detach", "--json",
                          "--runs-dir", str(store.root)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    job = json.loads(out.stdout)
    run = jobs.view(store, job["run_id"])
    try:
        assert run["status"] in ("starting", "running") and run["done"] == 0
    finally:
        jobs.stop(store, job["run_id"])
        wait_for_status(store, job["run_id"], ("stopped", "interrupted", "failed"), timeout=120)


def test_detach_is_refused_where_there_is_nothing_to_run_in_the_background(trained, capsys):
    store, run_id = trained
    before = len(store.list_runs())
    code, _, err = cli(capsys, "rank", run_id, "--ranking", "bn", "--detach", "--runs-dir", str(store.root))
    assert code == 2 and "read off the weights at once" in err and err.count("\n") == 1
    code, _, err = cli(capsys, "preview", run_id, "--threshold", "0.1", "--detach", "--runs-dir", str(store.root))
    assert code == 2 and "computed at once" in err and err.count("\n") == 1
    assert len(store.list_runs()) == before
