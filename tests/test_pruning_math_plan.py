"""The global ranking's pure math (`slimcore.pruning.math.plan`): thresholds, minimum widths, FLOPs budgets, curve
targets and the checks on what a user asks for."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slimcore.errors import ConfigError
from slimcore.pruning.math.plan import (candidate_thresholds, check_flops_ratio, check_min_channels, check_scores,
                                        check_target, check_threshold, curve_targets, requested_threshold, select,
                                        select_flops)

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


def test_a_threshold_outside_the_scores_is_recorded_as_the_nearest_one_with_the_same_plan():
    scores = [np.array([0.1, 0.5]), np.array([0.3])]
    assert select(scores, -math.inf).threshold == 0.1 and select(scores, -math.inf).plan == ((), ())
    top = select(scores, math.inf)
    assert math.isfinite(top.threshold) and 0.5 < top.threshold < 0.5 + 1e-12
    assert top.plan == select(scores, 1e30).plan == ((0,), ()) and top.clamped  # the best of each group stays
    assert requested_threshold(math.inf) == "inf" and requested_threshold(-math.inf) == "-inf"
    assert requested_threshold(0.25) == 0.25 and requested_threshold(None) is None


def test_candidate_thresholds_are_each_distinct_score_then_one_above_the_largest():
    cands = candidate_thresholds([np.array([0.3, 0.1, 0.3]), np.array([0.2])])
    assert cands[:3].tolist() == [0.1, 0.2, 0.3] and len(cands) == 4 and cands[3] == np.nextafter(0.3, 1)
    plans = {select([np.array([0.3, 0.1, 0.3]), np.array([0.2])], float(t), 0).plan for t in cands}
    assert len(plans) == len(cands)  # every candidate gives a different plan


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2", None])
def test_min_channels_must_be_a_positive_integer(bad):
    with pytest.raises(ConfigError, match=f"min_channels must be an integer >= 1 .*got {bad!r}"):
        check_min_channels(bad)
    assert check_min_channels(np.int64(3)) == 3 and type(check_min_channels(np.int64(3))) is int


def test_non_finite_scores_are_refused_with_the_likely_cause():
    check_scores([np.array([0.0, 1.0])])
    for bad in (np.nan, np.inf):
        with pytest.raises(ConfigError, match="non-finite scores .* did training diverge"):
            check_scores([np.array([0.5]), np.array([0.1, bad])])
