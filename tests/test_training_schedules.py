"""Learning-rate schedules (`slimcore.training.schedules`), stepped once per optimizer step: each factor by hand."""
from __future__ import annotations

import math

import pytest
import torch

from slimcore.training.schedules import make_scheduler


def lrs(kind: str, total: int, steps: int) -> list[float]:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.4)
    sched = make_scheduler(opt, kind, total)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_cosine_falls_to_zero_over_the_run_and_stays_there():
    got = lrs("cosine", 8, 10)
    want = [0.4 * 0.5 * (1 + math.cos(math.pi * min(s, 8) / 8)) for s in range(10)]
    assert got == pytest.approx(want) and got[0] == 0.4 and got[8] == got[9] == pytest.approx(0.0)


def test_step_divides_by_ten_at_half_and_three_quarters():
    assert lrs("step", 8, 8) == pytest.approx([0.4] * 4 + [0.04] * 2 + [0.004] * 2)


def test_constant_keeps_the_rate_and_a_zero_length_run_does_not_divide_by_zero():
    assert lrs("constant", 5, 7) == [0.4] * 7
    assert lrs("cosine", 0, 2) == pytest.approx([0.4, 0.0])
