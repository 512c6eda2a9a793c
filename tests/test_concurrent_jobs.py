"""Several writers on one run store: two background jobs at once, two `slimcore train` processes on a fresh
runs folder, and many processes creating the store at the same instant. Nothing is lost, mixed up or corrupt."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

from slimcore import jobs
from slimcore.data import load_dataset
from slimcore.store import RunStore, load_checkpoint
from slimcore.store import runs as runs_module
from slimcore.store.runs import DB_NAME
from slimcore.training.batches import steps_per_epoch

TIMEOUT = 400  # seconds; generous for a loaded 2-core machine


def expected_rows(n: int, every: int, epochs: int) -> tuple[dict[str, list[int]], list[tuple[int, bool]]]:
    """The steps each metric is logged at, and the (step, at_epoch_end) of each γ snapshot, for a run of
    `epochs` epochs of `n` steps that logs every `every` steps (the trainer's documented schedule)."""
    total = n * epochs
    logged = [s for s in range(1, total + 1) if s % every == 0 or s % n == 0]
    ends = [n * e for e in range(1, epochs + 1)]
    mid = [0] + [s for s in range(1, total + 1) if s % every == 0 and s % n != 0]
    metrics = {name: logged for name in ("train_loss", "train_accuracy", "lr")}
    metrics.update({name: ends for name in ("val_loss", "val_accuracy", "epoch_train_loss",
                                            "epoch_train_accuracy", "epoch_seconds")})
    sparsity = sorted(mid + ends)
    metrics.update({name: sparsity for name in ("sparsity@0.001", "sparsity@0.01", "sparsity@0.1", "sparsity@0")})
    snaps = sorted([(s, False) for s in mid] + [(s, True) for s in ends])
    return metrics, snaps


def integrity(root) -> str:
    with sqlite3.connect(os.path.join(root, DB_NAME)) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def wait_all(store: RunStore, run_ids, timeout: float = TIMEOUT) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(jobs.view(store, r)["status"] not in ("starting", "running") for r in run_ids):
            return
        time.sleep(0.3)
    raise AssertionError({r: jobs.view(store, r)["status"] for r in run_ids})


def check_run_rows(store: RunStore, run_id: str, cfg) -> None:
    """Exactly the rows the schedule says, each holding this run's own numbers."""
    run = store.get_run(run_id)
    log = (store.run_dir(run_id) / "job.log")
    assert run["status"] == "finished", (run["message"], log.read_text()[-2000:] if log.exists() else "")
    assert run["summary"]["epoch"] == cfg.epochs
    n = steps_per_epoch(len(load_dataset(cfg.dataset, seed=cfg.seed).train), cfg.batch_size)
    want_metrics, want_snaps = expected_rows(n, cfg.snapshot_every, cfg.epochs)
    got = store.metrics(run_id)
    assert sorted(got) == sorted(want_metrics)
    for name, steps in want_metrics.items():
        assert got[name]["step"] == steps, name
    snaps = store.snapshots(run_id)
    assert [(s["step"], s["at_epoch_end"]) for s in snaps] == want_snaps
    # Ownership: the last γ snapshot is the γ of this run's own final weights.
    state = load_checkpoint(store.run_dir(run_id) / "last.pt")
    assert state["config"]["seed"] == cfg.seed and state["step"] == n * cfg.epochs
    gamma = torch.cat([state["model"][f"{layer['name']}.weight"].reshape(-1) for layer in run["layers"]])
    assert np.array_equal(snaps[-1]["gamma"], gamma.numpy())
    assert store.latest_checkpoint(run_id)["path"].startswith(str(store.run_dir(run_id)))


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_two_background_jobs_at_once_lose_and_mix_nothing(tiny_config, tmp_path):
    store = RunStore(tmp_path / "runs")
    # Different seeds, penalties and schedules, so rows of one run would not pass as the other's.
    a = tiny_config.replace(epochs=3, batch_size=32, snapshot_every=3, seed=1, device="cpu", label="a")
    b = tiny_config.replace(epochs=2, batch_size=16, snapshot_every=7, seed=2, device="cpu", label="b",
                            penalty="tl1", lam=0.1, penalty_params={"a": 1.0, "mode": "proximal"})
    ids = {jobs.start_training(a, store): a, jobs.start_training(b, store): b}
    wait_all(store, ids)
    assert integrity(store.root) == "ok"
    for run_id, cfg in ids.items():
        check_run_rows(store, run_id, cfg)
    # No row belongs to no run or to the wrong one: the table holds exactly the two runs' expected rows.
    per_run = dict(store._conn.execute("SELECT run_id, COUNT(*) FROM metrics GROUP BY run_id").fetchall())
    assert per_run == {rid: sum(len(s["step"]) for s in store.metrics(rid).values()) for rid in ids}
    assert store._conn.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0] == sum(
        len(store.snapshots(rid)) for rid in ids)


def run_together(codes: list[str], gate, timeout: float = TIMEOUT) -> list[tuple[int, str, str]]:
    """Runs each `code` in its own `python -c`: all import torch and slimcore first, then wait at a gate the
    test opens once every one is ready, so they hit the store in the same instant however slow the machine."""
    gate.mkdir()
    procs = []
    for i, code in enumerate(codes):
        prelude = textwrap.dedent(f"""
            import os, sys, time
            from slimcore.cli.main import main
            from slimcore.store import RunStore
            open(os.path.join({str(gate)!r}, "ready-{i}"), "w").close()
            while not os.path.exists(os.path.join({str(gate)!r}, "go")):
                time.sleep(0.001)
        """)
        procs.append(subprocess.Popen([sys.executable, "-c", prelude + textwrap.dedent(code)],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    deadline = time.time() + timeout
    while len(list(gate.glob("ready-*"))) < len(codes):
        assert time.time() < deadline and all(p.poll() is None for p in procs), "a process died before the gate"
        time.sleep(0.05)
    (gate / "go").touch()
    outs = [p.communicate(timeout=timeout) for p in procs]
    return [(p.returncode, out, err) for p, (out, err) in zip(procs, outs)]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_two_train_commands_on_a_fresh_runs_dir(tiny_config, tmp_path):
    """Both create the store (schema, WAL) in the same instant, then train side by side."""
    runs_dir = tmp_path / "fresh" / "runs"  # does not exist yet
    argv = ["train", "--model", "slimnet", "--dataset", "digits", "--epochs", "2", "--batch-size", "64",
            "--penalty", "l1", "--lam", "1e-3", "--mode", "subgradient", "--snapshot-every", "5",
            "--device", "cpu", "--label", "same-label", "--runs-dir", str(runs_dir), "--json"]
    results = run_together([f"sys.exit(main({argv + ['--seed', str(seed)]!r}))" for seed in (1, 2)],
                           tmp_path / "gate")
    for returncode, _, err in results:
        assert returncode == 0, err[-3000:]
    run_ids = [json.loads(out)["run_id"] for _, out, _ in results]
    assert len(set(run_ids)) == 2
    assert integrity(runs_dir) == "ok"
    store = RunStore(runs_dir)
    assert {r["id"] for r in store.list_runs()} == set(run_ids)
    for run_id, seed in zip(run_ids, (1, 2)):
        cfg = tiny_config.replace(epochs=2, batch_size=64, snapshot_every=5, seed=seed, device="cpu")
        check_run_rows(store, run_id, cfg)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_many_processes_create_the_store_at_once(tmp_path):
    """Six processes open a store that does not exist yet at the same instant and each writes a run."""
    runs_dir = tmp_path / "new"
    code = f"""
        store = RunStore({str(runs_dir)!r})
        run_id = store.create_run({{"n": 1}}, label="race")
        for step in range(20):
            store.log_metrics(run_id, step, 0.0, {{"loss": float(step)}})
        print(run_id)
    """
    results = run_together([code] * 6, tmp_path / "gate")
    assert [r[0] for r in results] == [0] * 6, "\n".join(err[-3000:] for _, _, err in results)
    ids = {out.strip() for _, out, _ in results}
    assert len(ids) == 6 and integrity(runs_dir) == "ok"
    store = RunStore(runs_dir)
    assert {r["id"] for r in store.list_runs()} == ids
    for run_id in ids:
        assert store.metrics(run_id)["loss"]["step"] == list(range(20))


def test_run_ids_that_collide_are_drawn_again(tmp_path, monkeypatch):
    """Two runs with the same label created in the same second used to share an id (4 random hex digits)
    one time in 65,536, and the second failed; now the id is drawn again."""
    store = RunStore(tmp_path)
    tokens = iter(["beef", "beef", "f00d"])
    monkeypatch.setattr(runs_module.secrets, "token_hex", lambda n: next(tokens))
    monkeypatch.setattr(runs_module.time, "strftime", lambda fmt, *a: "20250101-000000")
    first = store.create_run({"a": 1}, label="same")
    second = store.create_run({"a": 2}, label="same")
    assert first != second and second.endswith("f00d")
    assert store.get_run(first)["config"] == {"a": 1} and store.get_run(second)["config"] == {"a": 2}
