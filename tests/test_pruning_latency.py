"""CPU latency (`slimcore.pruning.latency`): the median of alternating rounds, warm-up passes first, an early end
once the time budget is spent, and the report's figures derived from those medians."""
from __future__ import annotations

import time

import torch
from torch import nn

from slimcore.pruning import latency
from slimcore.pruning.latency import compare_latency, latency_report


class Sleeper(nn.Module):
    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds, self.calls = seconds, []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append(x.shape[0])
        time.sleep(self.seconds)
        return x


def test_each_model_gets_warmup_then_alternating_rounds_and_its_own_median():
    slow, fast = Sleeper(0.02), Sleeper(0.0)
    ms = compare_latency({"slow": slow, "fast": fast}, (1, 2, 2), batch=3, repeats=5, warmup=2)
    assert len(slow.calls) == len(fast.calls) == 7 and set(slow.calls) == {3}
    assert ms["slow"] >= 20.0 > ms["fast"]


def test_the_budget_ends_the_rounds_after_three():
    model = Sleeper(0.0)
    compare_latency({"m": model}, (1, 2, 2), batch=1, repeats=50, warmup=1, budget_s=0.0)
    assert len(model.calls) == 1 + 3


def test_the_report_has_each_batch_with_its_speedup(monkeypatch):
    medians = iter([{"original": 4.0, "pruned": 2.0}, {"original": 30.0, "pruned": 0.0}])
    monkeypatch.setattr(latency, "compare_latency", lambda models, shape, batch, repeats: next(medians))
    report = latency_report(nn.Identity(), nn.Identity(), (1, 8, 8), repeats=7)
    assert report["batch1"] == {"original_ms": 4.0, "pruned_ms": 2.0, "speedup": 2.0}
    assert report["batch64"] == {"original_ms": 30.0, "pruned_ms": 0.0, "speedup": None}
    assert (report["repeats"], report["statistic"], report["threads"]) == (7, "median", torch.get_num_threads())
