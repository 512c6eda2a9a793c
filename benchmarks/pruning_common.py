"""Shared by the pruning benchmarks: train a run into a store, count FLOPs independently, write a results file."""
from __future__ import annotations

import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.machine import describe_machine, save_result
from slimcore import jobs
from slimcore.config import TrainConfig
from slimcore.store import RunStore


def train(store: RunStore, config: TrainConfig) -> str:
    """Trains `config` in this process into `store`; returns the run id."""
    run_id = jobs.create_run(store, config)
    start = time.perf_counter()
    status, message = jobs.run_training(store, run_id, stop_flag={"requested": False})
    if status != "finished":
        raise SystemExit(f"training {config.model} failed: {status} {message}")
    print(f"trained {run_id} in {time.perf_counter() - start:.1f} s", flush=True)
    return run_id


def counted_flops(model: torch.nn.Module, input_shape: tuple[int, ...]) -> int:
    """FLOPs of one input by torch's own counter (2 × MACs of convs and linears)."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model.eval()(torch.zeros(1, *input_shape))
    return counter.get_total_flops()


def write_result(name: str, title: str, body: str) -> Path:
    path = save_result(name, f"# {title}\n\nMachine: {describe_machine()}\n\n{body.rstrip()}\n")
    print(path.read_text())
    return path
