"""The run store (`slimcore.store.runs`): what a job writes comes back as written, ids cannot escape the folder,
readers never see a torn or vanishing row while a writer appends, and errors say what to do."""
import itertools
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from slimcore.errors import StoreError
from slimcore.store import RunStore, default_runs_dir, validate_run_id


def test_round_trip(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run({"model": "slimnet", "lam": 1e-4}, label="slimnet l1")
    assert store.get_run(run_id)["status"] == "starting"
    store.set_layers(run_id, [{"name": "bn1", "size": 3}, {"name": "bn2", "size": 2}])
    store.log_metrics(run_id, 10, 0.5, {"train_loss": 1.5, "lr": 0.1})
    store.log_metrics(run_id, 20, 1.0, {"train_loss": 1.0, "lr": 0.05})
    gamma = np.array([0.5, -0.25, 0.0, 1.0, 2.0], dtype=np.float32)
    store.add_snapshot(run_id, 10, 0.5, False, gamma, -gamma)
    store.update_summary(run_id, val_accuracy=0.9)
    store.set_status(run_id, "finished", pid=os.getpid())
    store.put_artifact(run_id, "curve-bn", "curve", meta={"points": [1, 2]})

    again = RunStore(tmp_path)
    run = again.get_run(run_id)
    assert run["config"] == {"model": "slimnet", "lam": 1e-4}
    assert run["status"] == "finished" and run["summary"] == {"val_accuracy": 0.9}
    assert [layer["size"] for layer in run["layers"]] == [3, 2]
    m = again.metrics(run_id)
    assert m["train_loss"]["value"] == [1.5, 1.0] and m["lr"]["step"] == [10, 20]
    snaps = again.snapshots(run_id)
    assert len(snaps) == 1 and np.array_equal(snaps[0]["gamma"], gamma) and np.array_equal(snaps[0]["beta"], -gamma)
    assert again.artifact(run_id, "curve-bn")["meta"] == {"points": [1, 2]}
    assert [r["id"] for r in again.list_runs()] == [run_id]
    # snapshots are compact float32 bytes, not JSON text
    raw = again._conn.execute("SELECT gamma FROM snapshots").fetchone()[0]
    assert isinstance(raw, bytes) and len(raw) == 4 * gamma.size


def test_truncate_after_drops_later_rows(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run({})
    for step in (5, 10, 15):
        store.log_metrics(run_id, step, step / 10, {"train_loss": float(step)})
        store.add_snapshot(run_id, step, step / 10, False, np.ones(2), np.zeros(2))
    store.truncate_after(run_id, 10)
    assert store.metrics(run_id)["train_loss"]["step"] == [5, 10]
    assert [s["step"] for s in store.snapshots(run_id)] == [5, 10]


@pytest.mark.parametrize("bad", ["../evil", "a/b", "", "..", "x" * 200, "/etc/passwd", "run id"])
def test_run_ids_that_escape_the_store_are_refused(tmp_path, bad):
    store = RunStore(tmp_path)
    with pytest.raises(StoreError, match="invalid run id"):
        store.get_run(bad)
    with pytest.raises(StoreError):
        store.run_dir(bad)


def test_unknown_run_says_how_to_list(tmp_path):
    with pytest.raises(StoreError, match="slimcore runs"):
        RunStore(tmp_path).get_run("nope")


def test_the_store_returns_what_the_job_wrote_and_the_job_system_says_it_died(tmp_path):
    from slimcore import jobs

    store = RunStore(tmp_path)
    run_id = store.create_run({})
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    store.set_status(run_id, "running", "halfway", pid=proc.pid)
    assert store.get_run(run_id)["status"] == "running"  # recorded as written
    run = jobs.view(store, run_id)
    assert run["status"] == "interrupted" and run["stored_status"] == "running"
    assert "halfway" in run["message"] and "job.log" in run["message"]
    store.set_status(run_id, "running", pid=os.getpid())
    assert jobs.view(store, run_id)["status"] == "running"


def test_concurrent_reads_during_writes(tmp_path):
    """One writer process appends snapshots while this process reads: no error, nothing lost."""
    store = RunStore(tmp_path)
    run_id = store.create_run({})
    n = 300
    writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import numpy as np
        from slimcore.store import RunStore
        s = RunStore({str(tmp_path)!r})
        for i in range({n}):
            s.add_snapshot({run_id!r}, i, i / 10, False, np.full(64, i, np.float32), np.zeros(64, np.float32))
            s.log_metrics({run_id!r}, i, i / 10, {{"train_loss": float(i)}})
    """)], cwd=os.getcwd())
    seen = []
    while writer.poll() is None:
        snaps = store.snapshots(run_id)
        seen.append(len(snaps))
        for s in snaps:
            assert np.all(s["gamma"] == s["step"])  # never a torn row
    assert writer.wait() == 0
    assert seen == sorted(seen)  # readers never see rows disappear
    assert len(store.snapshots(run_id)) == n and len(store.metrics(run_id)["train_loss"]["value"]) == n


def test_unwritable_runs_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="--runs-dir"):
        RunStore(blocker / "runs")


def test_list_runs_filters_by_kind_and_parent_newest_first(tmp_path, monkeypatch):
    clock = itertools.count(100)
    monkeypatch.setattr("slimcore.store.runs.time.time", lambda: next(clock))
    store = RunStore(tmp_path)
    a = store.create_run({}, label="a")
    b = store.create_run({}, label="b")
    curve = store.create_run({}, kind="curve", parent=a)
    prune = store.create_run({}, kind="prune", parent=a)
    other = store.create_run({}, kind="prune", parent=b)
    assert [r["id"] for r in store.list_runs()] == [other, prune, curve, b, a]
    assert [r["id"] for r in store.list_runs(kind="prune")] == [other, prune]
    assert [r["id"] for r in store.list_runs(kind="prune", parent=a)] == [prune]
    assert [r["id"] for r in store.list_runs(parent=a)] == [prune, curve] and store.list_runs(kind="search") == []


def test_progress_heartbeat_pid_and_job_flags_are_recorded(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run({})
    store.set_progress(run_id, 3, 12, "candidate 3/12")
    run = store.get_run(run_id)
    assert (run["progress"], run["done"], run["total"], run["progress_message"]) == (0.25, 3.0, 12.0, "candidate 3/12")
    store.set_progress(run_id, 20, 12)  # never above 1
    assert store.get_run(run_id)["progress"] == 1.0
    store.set_progress(run_id, 1, 0)
    assert store.get_run(run_id)["progress"] == 0.0
    store.set_pid(run_id, 4242)
    store.set_pid(run_id, 99)  # the job recorded itself first: the launcher's late write does not undo that
    assert store.get_run(run_id)["pid"] == 4242
    asked = time.time()
    store.set_job_flags(run_id, stop_requested=True)
    store.set_job_flags(run_id, listening=True)
    run = store.get_run(run_id)
    assert asked <= run["stop_requested"] <= time.time() and run["listening"] == 1  # when the stop was asked
    store.set_job_flags(run_id, stop_requested=False)
    assert store.get_run(run_id)["stop_requested"] == 0
    store.update_summary(run_id, a=1)
    store.update_summary(run_id, b=2)
    assert store.get_run(run_id)["summary"] == {"a": 1, "b": 2}


def test_run_ids_are_the_time_the_label_and_a_random_part(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run({}, label="my  run/../é!")
    stamp, rest = run_id[:15], run_id[16:]
    assert stamp[8] == "-" and stamp.replace("-", "").isdigit() and rest[:-5] == "my-run"
    assert validate_run_id(run_id) == run_id and store.run_dir(run_id).is_dir()
    assert store.exists(run_id) and not store.exists("no-such-run")


def test_the_default_folder_is_the_environment_or_runs(monkeypatch, tmp_path):
    monkeypatch.delenv("SLIMCORE_RUNS_DIR", raising=False)
    assert str(default_runs_dir()) == "runs"
    monkeypatch.setenv("SLIMCORE_RUNS_DIR", str(tmp_path / "elsewhere"))
    assert default_runs_dir() == tmp_path / "elsewhere" and RunStore().root == tmp_path / "elsewhere"
