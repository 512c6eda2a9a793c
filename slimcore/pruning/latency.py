"""CPU inference latency: median wall time of repeated forward passes, models measured alternately."""
from __future__ import annotations

import statistics
import time

import torch
from torch import nn


@torch.inference_mode()
def _once(model: nn.Module, x: torch.Tensor) -> float:
    start = time.perf_counter()
    model(x)
    return time.perf_counter() - start


def compare_latency(models: dict[str, nn.Module], input_shape: tuple[int, int, int], batch: int,
                    repeats: int = 20, warmup: int = 3, budget_s: float = 20.0) -> dict[str, float]:
    """Median milliseconds per forward pass of each model at `batch`; rounds alternate between the models so
    that drift in machine load hits all alike. Stops early (at least 3 rounds) when `budget_s` is spent."""
    x = torch.randn(batch, *input_shape)
    for m in models.values():
        m.eval()
        for _ in range(warmup):
            _once(m, x)
    times: dict[str, list[float]] = {name: [] for name in models}
    started = time.perf_counter()
    for r in range(repeats):
        for name, m in models.items():
            times[name].append(_once(m, x))
        if r >= 2 and time.perf_counter() - started > budget_s:
            break
    return {name: 1000.0 * statistics.median(t) for name, t in times.items()}


def latency_report(original: nn.Module, pruned: nn.Module, input_shape: tuple[int, int, int],
                   batches: tuple[int, ...] = (1, 64), repeats: int = 20) -> dict:
    """{"batch1": {"original_ms", "pruned_ms", "speedup"}, "batch64": {...}, "threads": n}."""
    out: dict = {"threads": torch.get_num_threads(), "repeats": repeats, "statistic": "median"}
    for b in batches:
        ms = compare_latency({"original": original, "pruned": pruned}, input_shape, b, repeats)
        out[f"batch{b}"] = {"original_ms": round(ms["original"], 4), "pruned_ms": round(ms["pruned"], 4),
                            "speedup": round(ms["original"] / ms["pruned"], 3) if ms["pruned"] > 0 else None}
    return out
