"""The ℓp penalty, 0 < p < 1 (`slimcore.penalties.lp`, Bui et al. 2020): λ|γ|^p, a subgradient kept finite at 0, and
the prox Xu et al.'s half thresholding gives at p = 1/2 and generalized iterated shrinkage at every other p."""
from __future__ import annotations

import math

import pytest
import torch

from slimcore.penalties import get
from slimcore.penalties.lp import LP_EPS
from slimcore.penalties.thresholding import half_threshold, lp_threshold

X = torch.linspace(-3, 3, 121, dtype=torch.float64)


def test_value_is_lam_times_abs_to_the_p():
    pen = get("lp", lam=0.4, p=0.75)
    assert torch.allclose(pen.value(X), 0.4 * X.abs() ** 0.75, rtol=0, atol=0)
    assert pen.value(torch.tensor([16.0])).item() == pytest.approx(0.4 * 8.0)


@pytest.mark.parametrize("p, prox", [(0.5, lambda x, t: half_threshold(x, t)), (0.3, lambda x, t: lp_threshold(x, t, 0.3)),
                                     (0.75, lambda x, t: lp_threshold(x, t, 0.75))])
def test_prox_is_the_thresholding_map_at_step_times_lam(p, prox):
    pen = get("lp", lam=0.6, p=p)
    assert torch.equal(pen.prox(X, 0.5), prox(X, 0.3))


def test_subgradient_is_finite_at_zero_and_the_derivative_elsewhere():
    pen = get("lp", lam=0.5, p=0.3)
    assert pen.grad(torch.zeros(4, dtype=torch.float64)).tolist() == [0.0] * 4  # sign(0) = 0, no 0 ** (p - 1)
    for x in (0.25, -2.0, 1e-9):
        want = math.copysign(0.5 * 0.3 * (abs(x) + LP_EPS) ** (0.3 - 1.0), x)
        assert pen.grad(torch.tensor([x], dtype=torch.float64)).item() == pytest.approx(want, rel=1e-12)
