import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from slimcore.errors import CheckpointError, StoreError
from slimcore.store import RunStore, load_checkpoint, save_checkpoint


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


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    save_checkpoint({"w": torch.ones(3)}, path)

    def full_disk(obj, f, *a, **k):
        f.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(CheckpointError, match="previous checkpoint is kept"):
        save_checkpoint({"w": torch.zeros(3)}, path)
    monkeypatch.undo()
    assert torch.equal(load_checkpoint(path)["w"], torch.ones(3))
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


@pytest.mark.parametrize("content", [b"garbage bytes", b""])
def test_bad_checkpoint_files_are_refused(tmp_path, content):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="not a valid slimcore checkpoint"):
        load_checkpoint(path)


def test_pickle_that_runs_code_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        pickle.dump({"model": _Exploit()}, f)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert not (tmp_path / "pwned").exists()


def test_truncated_checkpoint_is_refused(tmp_path):
    path = tmp_path / "ckpt.pt"
    save_checkpoint({"w": torch.randn(1000)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
