"""The prox maps (`slimcore.penalties.thresholding`) return the global minimiser of ½(y−x)² + t·R(y); every penalty's
prox minimises its own value and its subgradient matches autograd."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from slimcore.penalties import get
from slimcore.penalties.thresholding import (half_tau, half_threshold, lp_tau, lp_threshold, soft_threshold,
                                             tl1_tau, tl1_threshold)

# (label, prox(x, t), R(y), τ(t)) for every map at the parameters the papers use and one more each.
CASES = [
    ("l1", soft_threshold, lambda y: y.abs(), lambda t: t),
    ("half", half_threshold, lambda y: y.abs().sqrt(), half_tau),
]
for _p in (0.5, 0.75, 0.3):
    CASES.append((f"lp{_p}", lambda x, t, p=_p: lp_threshold(x, t, p), lambda y, p=_p: y.abs() ** p,
                  lambda t, p=_p: lp_tau(t, p)))
for _a in (0.5, 1.0, 3.0):
    CASES.append((f"tl1_a{_a}", lambda x, t, a=_a: tl1_threshold(x, t, a),
                  lambda y, a=_a: (a + 1) * y.abs() / (a + y.abs()), lambda t, a=_a: tl1_tau(t, a)))
IDS = [c[0] for c in CASES]
STEPS = [0.05, 0.3, 1.0]
GRID = 1001


def objective(y: torch.Tensor, x: torch.Tensor, t: float, reg) -> torch.Tensor:
    return 0.5 * (y - x) ** 2 + t * reg(y)


def grid_min(x: torch.Tensor, t: float, reg) -> torch.Tensor:
    """Brute-force minimum over y = s·x, s in [0, 1] (the minimiser never leaves that segment).

    A dense grid, then a second dense grid over the two cells around the best nonzero point: on the segment the
    objective has at most one interior local minimum, so this pins it to ~1e-10 while y = 0 stays a candidate.
    """
    xs = x[:, None]
    s = torch.linspace(0.0, 1.0, GRID, dtype=torch.float64)
    coarse = objective(xs * s, xs, t, reg)
    i = coarse[:, 1:].argmin(dim=1) + 1
    lo, hi = s[i - 1], s[torch.clamp(i + 1, max=GRID - 1)]
    fine_s = lo[:, None] + (hi - lo)[:, None] * s[None, :]
    fine = objective(xs * fine_s, xs, t, reg)
    return torch.minimum(coarse.min(dim=1).values, fine.min(dim=1).values)


def assert_global_min(prox, reg, x: torch.Tensor, t: float) -> None:
    y = prox(x, t)
    got = objective(y, x, t, reg)
    best = grid_min(x, t, reg)
    # never worse than any grid point (a wrong branch or threshold loses by far more than 1e-12) ...
    worst = (got - best).max().item()
    assert worst <= 1e-12, f"t={t}: prox objective exceeds the grid minimum by {worst:.3g}"
    # ... and not below the grid minimum by more than the grid's resolution allows
    assert (best - got).max().item() <= 1e-8


def probe_points(tau: float) -> torch.Tensor:
    base = torch.linspace(-4.0, 4.0, 201, dtype=torch.float64)
    edges = torch.tensor([tau, tau * (1 - 1e-6), tau * (1 + 1e-6), tau * (1 - 1e-3), tau * (1 + 1e-3)],
                         dtype=torch.float64)
    return torch.cat([base, edges, -edges])


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("t", STEPS)
def test_prox_is_global_minimiser_on_grid(case, t):
    _, prox, reg, tau = case
    assert_global_min(prox, reg, probe_points(tau(t)), t)


@settings(max_examples=100, deadline=None)
@given(case=st.sampled_from(CASES),
       t=st.floats(0.001, 2.0),
       xs=st.lists(st.floats(-6.0, 6.0, allow_nan=False), min_size=1, max_size=8))
def test_prox_is_global_minimiser_random(case, t, xs):
    _, prox, reg, tau = case
    x = torch.tensor(xs + [tau(t), -tau(t)], dtype=torch.float64)
    assert_global_min(prox, reg, x, t)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("t", STEPS)
def test_prox_zero_up_to_threshold_nonzero_beyond(case, t):
    _, prox, _, tau = case
    tt = tau(t)
    below = torch.tensor([0.0, tt * 0.5, tt * (1 - 1e-9), tt], dtype=torch.float64)
    above = torch.tensor([tt * (1 + 1e-6), tt + 0.5, 5.0], dtype=torch.float64)
    assert torch.equal(prox(below, t), torch.zeros_like(below))
    assert (prox(above, t) > 0).all()


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("t", STEPS)
def test_prox_is_odd_and_monotone(case, t):
    _, prox, _, tau = case
    x = torch.sort(torch.cat([torch.linspace(-5, 5, 2001, dtype=torch.float64), probe_points(tau(t))])).values
    y = prox(x, t)
    assert torch.equal(prox(-x, t), -y)
    assert (y.diff() >= -1e-12).all()
    assert (y.abs() <= x.abs()).all()  # shrinkage


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_zero_step_is_identity(case):
    _, prox, _, _ = case
    x = torch.linspace(-3, 3, 61, dtype=torch.float64)
    assert torch.allclose(prox(x, 0.0), x, atol=1e-12)


def test_generalized_shrinkage_matches_half_thresholding_at_p_half():
    x = torch.linspace(-4, 4, 801, dtype=torch.float64)
    for t in STEPS:
        assert torch.allclose(lp_threshold(x, t, 0.5), half_threshold(x, t), atol=1e-10)
        assert math.isclose(lp_tau(t, 0.5), half_tau(t), rel_tol=1e-12)


def test_tl1_threshold_regimes():
    a = 1.0
    small, large = 0.1, 1.0  # a²/(2(a+1)) = 0.25 separates the regimes (Zhang & Xin 2018)
    assert math.isclose(tl1_tau(small, a), small * (a + 1) / a)
    assert math.isclose(tl1_tau(large, a), math.sqrt(2 * large * (a + 1)) - a / 2)


def test_negative_or_nan_step_is_rejected():
    x = torch.ones(3)
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            soft_threshold(x, bad)


# (name, params) of every penalty whose elementwise value/grad/prox are checked through the public API
PENALTY_CASES = [("l1", {}), ("lp", {"p": 0.5}), ("lp", {"p": 0.75}), ("lp", {"p": 0.3}),
                 ("tl1", {"a": 0.5}), ("tl1", {"a": 1.0}), ("tl1", {"a": 3.0}), ("ista", {}), ("tpp", {}),
                 ("none", {})]


@pytest.mark.parametrize("name,params", PENALTY_CASES, ids=[f"{n}{p}" for n, p in PENALTY_CASES])
def test_subgradient_equals_autograd_away_from_zero(name, params):
    pen = get(name, lam=0.37, **params)
    x = torch.cat([torch.linspace(-3, -0.05, 60), torch.linspace(0.05, 3, 60)]).double().requires_grad_()
    pen.value(x).sum().backward()
    assert torch.allclose(pen.grad(x.detach()), x.grad, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("name,params", PENALTY_CASES, ids=[f"{n}{p}" for n, p in PENALTY_CASES])
def test_penalty_prox_minimises_with_step_times_lam(name, params):
    lam, step = 0.5, 0.6
    pen = get(name, lam=lam, **params)
    x = torch.linspace(-4, 4, 161, dtype=torch.float64)
    y = pen.prox(x, step)
    got = 0.5 * (y - x) ** 2 + step * pen.value(y)
    best = grid_min(x, step, lambda v: pen.value(v))
    assert (got - best).max().item() <= 1e-12
