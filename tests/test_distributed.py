"""Data-parallel training with torchrun on CPU (gloo): one writer, same result as one process, resume across
process counts."""
from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from slimcore import jobs
from slimcore.distributed import DistContext
from slimcore.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
# The `torchrun` console script next to this interpreter (the module form where a venv lacks it).
_TORCHRUN_SCRIPT = Path(sys.executable).with_name("torchrun")
TORCHRUN = ([str(_TORCHRUN_SCRIPT)] if _TORCHRUN_SCRIPT.exists() else [sys.executable, "-m", "torch.distributed.run"]) \
    + ["--standalone"]
TRAIN_ARGS = ["--dataset", "digits", "--epochs", "2", "--batch-size", "64", "--seed", "3", "--json"]

# Per-rank BatchNorm statistics (each rank normalises its own half of the batch, as DDP does on CPU, where
# SyncBatchNorm is not available) make two processes differ slightly from one; this is the agreed margin.
ACCURACY_TOLERANCE = 0.04
WEIGHT_RELATIVE_TOLERANCE = 0.10
# Long enough (a few seconds) that a stop lands mid-run.
LONG_EPOCHS = 30


@pytest.mark.parametrize("world", [1, 2, 3, 5])
def test_shards_weight_the_loss_like_one_process(world):
    """Σ over ranks of weight × (mean loss of the rank's shard), averaged by DDP, is the global batch mean."""
    rng = random.Random(world)
    for n in [1, 2, 3, 5, 7, 9, 11, 64, 65]:
        losses = [rng.random() for _ in range(n)]
        total = 0.0
        covered = []
        for rank in range(world):
            ctx = DistContext(rank=rank, world_size=world, local_rank=0, backend="gloo")
            mine, weight = ctx.shard(list(range(n)))
            # every rank joins the gradient all-reduce, with at least two samples (BN on 1×1 maps needs two)
            assert len(mine) >= min(2, n)
            total += weight * sum(losses[i] for i in mine) / len(mine)
            if weight > 0:
                covered += mine
        assert total / world == pytest.approx(sum(losses) / n)
        assert sorted(covered) == list(range(n))  # each sample counted exactly once


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


def _torchrun(nproc: int, args: list[str], timeout: float = 600) -> subprocess.CompletedProcess:
    cmd = [*TORCHRUN, "--nproc_per_node", str(nproc), "-m", "slimcore", *args]
    return subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=timeout)


def _final_weights(store: RunStore, run_id: str) -> dict:
    return torch.load(store.run_dir(run_id) / "last.pt", weights_only=True)["model"]


def _relative_distance(a: dict, b: dict) -> float:
    keys = [k for k in a if a[k].is_floating_point()]
    num = sum(((a[k] - b[k]) ** 2).sum() for k in keys)
    den = sum((a[k] ** 2).sum() for k in keys)
    return float((num / den).sqrt())


def _only_run(store: RunStore) -> dict:
    runs = store.list_runs()
    assert len(runs) == 1, [r["id"] for r in runs]
    return runs[0]


@pytest.fixture(scope="module")
def single_process(tmp_path_factory):
    """The reference: the same command in one process."""
    runs = tmp_path_factory.mktemp("single") / "runs"
    out = subprocess.run([sys.executable, "-m", "slimcore", "train", *TRAIN_ARGS, "--runs-dir", str(runs)],
                         cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    store = RunStore(runs)
    return store, _only_run(store)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_torchrun_two_processes_one_writer_same_result(tmp_path, single_process):
    runs = tmp_path / "runs"
    out = _torchrun(2, ["train", *TRAIN_ARGS, "--runs-dir", str(runs)])
    assert out.returncode == 0, out.stderr[-3000:]
    store = RunStore(runs)
    run = _only_run(store)
    assert run["status"] == "finished"
    assert "(2 processes)" in out.stderr
    # One writer: a single process registered itself, it is rank 0 of 2, and nothing was written twice.
    writers = store.writers(run["id"])
    assert len(writers) == 1 and writers[0]["note"].startswith("rank 0 of 2"), writers
    assert run["pid"] == writers[0]["pid"]
    ref_store, ref = single_process
    for name in ("train_loss", "val_accuracy", "sparsity@0.01"):
        steps = store.metrics(run["id"])[name]["step"]
        assert steps == ref_store.metrics(ref["id"])[name]["step"], name  # same steps, none duplicated
    assert len(store.snapshots(run["id"])) == len(ref_store.snapshots(ref["id"]))
    # Same global batch → the same training, up to per-rank BN statistics.
    acc, ref_acc = run["summary"]["val_accuracy"], ref["summary"]["val_accuracy"]
    assert abs(acc - ref_acc) <= ACCURACY_TOLERANCE, (acc, ref_acc)
    distance = _relative_distance(_final_weights(ref_store, ref["id"]), _final_weights(store, run["id"]))
    assert distance <= WEIGHT_RELATIVE_TOLERANCE, distance


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _stop_mid_run(cmd: list[str], runs: Path) -> str:
    """Starts `cmd`, waits until its run is a tenth done, stops it with `slimcore stop`; returns the run id."""
    proc = subprocess.Popen(cmd, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def started() -> bool:
            if not (runs / "slimcore.db").exists():
                return False
            store = RunStore(runs)
            found = store.list_runs()
            return bool(found) and found[0]["status"] == "running" and (found[0]["progress"] or 0) > 0.1
        _wait_for(started, 300, "the run to get going")
        run_id = RunStore(runs).list_runs()[0]["id"]
        jobs.stop(RunStore(runs), run_id)  # what `slimcore stop` does: SIGTERM to the recorded pid
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
    return run_id


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("first, then", [(2, 1), (1, 2)])
def test_resume_with_another_number_of_processes(tmp_path, first, then):
    runs = tmp_path / "runs"
    args = ["train", "--dataset", "digits", "--epochs", str(LONG_EPOCHS), "--batch-size", "64", "--seed", "3",
            "--runs-dir", str(runs)]
    if first == 1:
        cmd = [sys.executable, "-m", "slimcore", *args]
    else:
        cmd = [*TORCHRUN, "--nproc_per_node", str(first), "-m", "slimcore", *args]
    run_id = _stop_mid_run(cmd, runs)
    store = RunStore(runs)
    stopped = store.get_run(run_id)
    assert stopped["status"] == "stopped", stopped["message"]
    resume = ["resume", run_id, "--runs-dir", str(runs), "--json"]
    if then == 1:
        out = subprocess.run([sys.executable, "-m", "slimcore", *resume], cwd=ROOT, env=_env(),
                             capture_output=True, text=True, timeout=600)
    else:
        out = _torchrun(then, resume)
    assert out.returncode == 0, out.stderr[-3000:]
    run = store.get_run(run_id)
    assert run["status"] == "finished" and run["summary"]["epoch"] == LONG_EPOCHS
    notes = [w["note"] for w in store.writers(run_id)]
    assert len(notes) == 2 and notes[0].startswith(f"rank 0 of {first}") and notes[1].startswith(f"rank 0 of {then}")
    steps = store.metrics(run_id)["train_loss"]["step"]
    assert steps == sorted(set(steps)), "no step recorded twice across the resume"
    assert store.metrics(run_id)["val_accuracy"]["step"][-1] == steps[-1]
    assert run["summary"]["val_accuracy"] > 0.8


def test_detach_is_refused_under_torchrun(tmp_path, monkeypatch, capsys):
    from slimcore.cli.main import main

    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main(["train", "--dataset", "digits", "--detach", "--runs-dir", str(tmp_path / "runs")]) == 2
    assert "torchrun" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_ranks_draw_their_own_augmentation_and_rank_0_draws_as_one_process():
    from slimcore.training.batches import batch_generator

    def draws(rank):
        return torch.rand(8, generator=batch_generator(5, 2, 7, rank))

    assert torch.equal(draws(0), torch.rand(8, generator=batch_generator(5, 2, 7)))
    assert not torch.equal(draws(0), draws(1)) and not torch.equal(draws(1), draws(2))
    assert torch.equal(draws(1), draws(1))  # still fixed by (seed, epoch, batch, rank): resume replays it


# -- what can be checked in one process -------------------------------------------------------------------
def test_rank_0_is_the_main_one_and_a_nccl_rank_trains_on_its_own_gpu():
    ctx = DistContext(rank=0, world_size=2, local_rank=1, backend="cpu:gloo,cuda:nccl")
    assert ctx.is_main and not DistContext(1, 2, 0, "gloo").is_main
    assert (ctx.device("auto"), ctx.device("cuda"), ctx.device("cuda:0"), ctx.device("cpu")) == \
        ("cuda:1", "cuda:1", "cuda:1", "cpu")
    assert DistContext(0, 2, 1, "gloo").device("auto") == "auto"  # a CPU group leaves the spec to choose_device


def test_without_torchrun_there_is_no_group_and_a_cuda_run_without_gpu_is_refused(monkeypatch):
    from slimcore import distributed
    from slimcore.errors import ConfigError

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert not distributed.launched_by_torchrun() and distributed.from_environment("cuda") is None
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert not distributed.launched_by_torchrun()
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert distributed.launched_by_torchrun()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="--device cuda was asked for but this machine has no CUDA GPU; use --device "
                                          "cpu"):
        distributed.from_environment("cuda:0")
    distributed.shutdown(None)  # nothing to shut down: no error


@pytest.fixture
def group_of_one(tmp_path):
    """A gloo process group of this process alone (world size 1), destroyed after the test."""
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'rendezvous'}", rank=0, world_size=1)
    try:
        yield DistContext(rank=0, world_size=1, local_rank=0, backend="gloo")
    finally:
        from slimcore import distributed

        distributed.shutdown(DistContext(0, 1, 0, "gloo"))
        assert not dist.is_initialized()


def test_the_collectives_of_a_group_of_one_return_this_rank_values(group_of_one):
    ctx = group_of_one
    assert ctx.broadcast({"run_id": "r", "state": [1, 2]}) == {"run_id": "r", "state": [1, 2]}
    assert ctx.sum([1.5, 2.0, 3]) == [1.5, 2.0, 3.0]
    assert ctx.any(True) and not ctx.any(False)
    bn = torch.nn.BatchNorm2d(3)
    bn.running_mean.fill_(0.25)
    ctx.sync_buffers(bn)
    assert bn.running_mean.tolist() == [0.25] * 3
    assert ctx.shard(list(range(10))) == (list(range(10)), 1.0)
