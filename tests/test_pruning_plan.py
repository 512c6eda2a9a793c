"""The global ranking's pure math: thresholds, minimum widths, FLOPs budgets, curve thresholds, LeGR's evolution."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slimcore.errors import ConfigError
from slimcore.pruning.math.evolution import evolve, mutate, normalise
from slimcore.pruning.math.plan import (candidate_thresholds, check_flops_ratio, check_target, check_threshold,
                                        curve_targets, select, select_flops)
from slimcore.pruning.settings import LegrSettings

scores_st = st.lists(st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=12).map(np.array),
                     min_size=1, max_size=5)


def toy_macs(widths: list[int]):
    """A chain of layers: layer i costs width[i-1]·width[i] (like a conv's C_in·C_out)."""
    def macs(plan) -> int:
        w = [n - len(r) for n, r in zip(widths, plan)]
        return sum(a * b for a, b in zip([3] + w[:-1], w))
    return macs


def test_threshold_below_every_score_removes_nothing():
    sel = select([np.array([0.1, 0.5]), np.array([0.3])], 0.0)
    assert sel.plan == ((), ()) and not sel.clamped and sel.removed == 0


def test_threshold_removes_scores_strictly_below():
    sel = select([np.array([0.1, 0.5, 0.3]), np.array([0.3, 0.2])], 0.3)
    assert sel.plan == ((0,), (1,))


def test_minimum_width_keeps_the_best_scored_and_says_clamped():
    sel = select([np.array([0.1, 0.5, 0.3]), np.array([0.9, 0.8])], 1.0, min_channels=2)
    assert sel.plan == ((0,), ()) and sel.clamped


def test_ties_are_broken_by_index():
    sel = select([np.array([0.2, 0.2, 0.2])], 1.0, min_channels=1)
    assert sel.plan == ((1, 2),)


@settings(max_examples=60, deadline=None)
@given(scores_st, st.floats(-0.5, 1.5), st.floats(0, 0.5), st.integers(1, 4))
def test_plans_are_nested_and_never_below_the_minimum(scores, t, dt, m):
    low, high = select(scores, t, m), select(scores, t + dt, m)
    for s, a, b in zip(scores, low.plan, high.plan):
        assert set(a) <= set(b)
        assert len(s) - len(b) >= min(m, len(s))


@settings(max_examples=60, deadline=None)
@given(scores_st, st.floats(0.01, 1.0), st.integers(1, 3))
def test_flops_selection_is_the_lowest_threshold_within_budget(scores, ratio, m):
    macs = toy_macs([len(s) for s in scores])
    sel = select_flops(scores, ratio, macs, m)
    base = macs(tuple(() for _ in scores))
    cands = candidate_thresholds(scores)
    i = int(np.searchsorted(cands, sel.threshold))
    assert cands[i] == sel.threshold
    if macs(sel.plan) <= ratio * base:
        assert i == 0 or macs(select(scores, float(cands[i - 1]), m).plan) > ratio * base
    else:  # budget out of reach: the smallest widths, marked clamped
        assert sel.clamped and sel.plan == select(scores, math.inf, m).plan


def test_flops_ratio_one_is_the_unpruned_model():
    scores = [np.array([0.3, 0.1]), np.array([0.2, 0.4, 0.5])]
    assert select_flops(scores, 1.0, toy_macs([2, 3])).plan == ((), ())


@pytest.mark.parametrize("points", [1, 7, 50])
def test_curve_targets_are_evenly_spaced_down_to_zero(points):
    targets = curve_targets(points)
    assert len(targets) == points and targets[-1] == 0
    assert np.allclose(np.diff([1.0] + targets), -1 / points)


@pytest.mark.parametrize("bad", [float("nan"), "0.1", None, True])
def test_bad_thresholds_are_refused(bad):
    with pytest.raises(ConfigError):
        check_threshold(bad)


@pytest.mark.parametrize("bad", [0, -0.1, 1.0001, float("nan"), float("inf")])
def test_flops_ratio_outside_0_1_is_refused(bad):
    with pytest.raises(ConfigError):
        check_flops_ratio(bad)


@pytest.mark.parametrize("t, r", [(None, None), (0.1, 0.5)])
def test_exactly_one_target(t, r):
    with pytest.raises(ConfigError, match="exactly one"):
        check_target(t, r)


def test_mutation_keeps_alpha_positive_and_kappa_anchored_at_zero():
    rng = np.random.default_rng(0)
    a, k = np.ones(6), np.zeros(6)
    for _ in range(50):
        a, k = mutate(a, k, rng, sigma=1.0, kappa_scale=0.5)
        assert np.all(a > 0) and k.min() == 0
    assert np.allclose(normalise(np.array([2.0, 3.0])), [0.0, 1.0])


def test_evolution_improves_reports_progress_and_stops():
    target = np.array([2.0, 0.5, 1.0])

    def fitness(alpha, kappa):
        return -float(np.abs(np.log(alpha) - np.log(target)).sum() + kappa.sum())

    calls = []
    out = evolve(3, fitness, population=6, sample=3, generations=60, sigma=0.5, kappa_scale=0.1,
                 progress=lambda d, t, m: calls.append((d, t)))
    assert calls[-1] == (66, 66) and out["evaluated"] == 66 and not out["stopped"]
    assert out["best"].fitness > out["history"][0]["fitness"]  # beats the identity map it starts from
    stop_after = iter(range(100))
    out = evolve(3, fitness, 6, 3, 60, 0.5, 0.1, should_stop=lambda: next(stop_after) >= 4)
    assert out["stopped"] and out["evaluated"] == 4


def test_legr_parameters_are_checked():
    assert LegrSettings().population >= LegrSettings().sample
    for bad in ({"population": 0}, {"sample": 9, "population": 3}, {"lr": -1}, {"flops_ratio": 2},
                {"colour": 1}, {"steps": 1.5}):
        with pytest.raises(ConfigError):
            LegrSettings.from_dict(bad)
