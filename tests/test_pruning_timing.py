"""Timing a model on a backend: the median and interquartile range of the repeats, the backends registry."""
from __future__ import annotations

import pytest
import torch

from slimcore.errors import ConfigError
from slimcore.pruning import timing
from slimcore.pruning.timing import BACKENDS, check_backends, measure_latency


def test_measure_latency_is_the_median_and_iqr_of_the_timed_repeats(monkeypatch):
    ticks = iter([0.0, 0.0])  # the budget's start reading, then pairs per repeat
    durations = [0.004, 0.001, 0.003, 0.002, 0.005]
    clock = [0.0]
    readings = []

    def perf_counter():
        readings.append(clock[0])
        return clock[0]

    calls = []

    def run():
        calls.append(1)
        if len(calls) > 2:  # the two warm-up calls take no time on this clock
            clock[0] += durations[len(calls) - 3]

    monkeypatch.setattr(timing.time, "perf_counter", perf_counter)
    t = measure_latency(run, repeats=5, warmup=2)
    assert len(calls) == 7 and t.repeats == 5
    assert t.median_ms == pytest.approx(3.0)
    q1, q3 = 1.5, 4.5  # statistics.quantiles(n=4), exclusive method, of 1..5 ms
    assert t.spread_ms == pytest.approx(q3 - q1)
    del ticks


def test_backends_are_checked_by_name_and_availability():
    assert {"torch-cpu", "onnxruntime", "torch-cuda"} <= set(BACKENDS.names())
    assert check_backends(["torch-cpu"]) == ("torch-cpu",)
    with pytest.raises(ConfigError, match="unknown latency backend 'tpu'"):
        check_backends(["tpu"])
    with pytest.raises(ConfigError, match="at least one backend"):
        check_backends([])
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA GPU"):
            check_backends(["torch-cuda"])


@pytest.mark.parametrize("backend", ["torch-cpu", "onnxruntime"])
def test_a_backend_runs_the_model_it_was_given(backend):
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(144, 3))
    run = BACKENDS.get(backend)().prepare(model, (1, 8, 8), 2)
    run()
    t = measure_latency(run, repeats=3, warmup=1)
    assert t.median_ms > 0 and t.repeats == 3
