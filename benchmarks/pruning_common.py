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


def torch_pruning_at(model: torch.nn.Module, input_shape: tuple[int, ...], budget: int, normalizer="mean",
                     iterations: int = 14) -> torch.nn.Module:
    """Torch-Pruning's BNScalePruner (global pruning, |γ| importance with `normalizer`, the output layer kept) at
    the smallest pruning ratio whose model has at most `budget` FLOPs (the largest model within the budget),
    found by bisection over [0, 0.99]; with no ratio under budget, the unpruned model."""
    import copy

    import torch_pruning as tp

    from slimcore.analysis.graph import output_layer

    last = output_layer(model, torch.zeros(1, *input_shape))

    def prune(ratio: float) -> torch.nn.Module:
        m = copy.deepcopy(model).eval()
        for p in m.parameters():
            p.requires_grad_(True)
        tp.pruner.BNScalePruner(m, torch.zeros(1, *input_shape),
                                importance=tp.importance.BNScaleImportance(normalizer=normalizer),
                                global_pruning=True, pruning_ratio=ratio,
                                ignored_layers=[m.get_submodule(last)]).step()
        return m.eval()

    lo, hi, best = 0.0, 0.99, None
    for _ in range(iterations):
        mid = (lo + hi) / 2
        candidate = prune(mid)
        if counted_flops(candidate, input_shape) <= budget:
            hi, best = mid, candidate
        else:
            lo = mid
    return best if best is not None else prune(0.0)
