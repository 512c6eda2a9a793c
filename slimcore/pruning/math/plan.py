"""The global ranking as pure math: which channels a threshold or a FLOPs budget removes, per group.

A plan is a tuple with one sorted tuple of removed channel indices per group. Network slimming (Liu et al.
2017) removes every channel whose score is under one global threshold; no group ever drops below
`min_channels` (its best-scored channels are kept instead, and the selection is marked `clamped`). Per-layer
rules (`slimcore.pruning.math.rules`: locked groups, caps on the share removed, rounded widths) raise a group's kept
width further; they are the user's choice, so they do not mark a selection clamped.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from slimcore.errors import ConfigError
from slimcore.pruning.math.rules import GroupLimits, rounded_width

Plan = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class Selection:
    """A plan, the threshold that yields it, and whether some group's minimum width overrode the threshold."""

    plan: Plan
    threshold: float
    clamped: bool

    @property
    def removed(self) -> int:
        return sum(len(r) for r in self.plan)


def check_threshold(value: object) -> float:
    """A threshold is any number but NaN (below every score keeps all channels; +inf removes all it may)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ConfigError(f"threshold must be a number, got {value!r}.")
    if math.isnan(float(value)):
        raise ConfigError("threshold must be a number, got NaN; channels with a score under it are removed.")
    return float(value)


def requested_threshold(value: float | None) -> float | str | None:
    """A threshold as given, for reports: ±inf as the text "inf" / "-inf" (JSON has no infinity)."""
    return value if value is None or math.isfinite(value) else str(float(value))


def check_flops_ratio(value: object) -> float:
    """The share of the unpruned model's FLOPs to keep, in (0, 1]."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ConfigError(f"flops ratio must be a number in (0, 1], got {value!r}.")
    v = float(value)
    if not (math.isfinite(v) and 0 < v <= 1):
        raise ConfigError(f"flops ratio must be in (0, 1] (the share of FLOPs to keep, 1 = unpruned), got {value!r}.")
    return v


def check_min_channels(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"min_channels must be an integer >= 1 (no layer may lose every channel), got {value!r}.")
    return int(value)


def check_target(threshold: object, flops_ratio: object) -> tuple[float | None, float | None]:
    """Exactly one of threshold / flops_ratio, validated."""
    if (threshold is None) == (flops_ratio is None):
        raise ConfigError("give exactly one of a threshold (--threshold) or a FLOPs ratio to keep (--flops-ratio).")
    if threshold is not None:
        return check_threshold(threshold), None
    return None, check_flops_ratio(flops_ratio)


def check_scores(scores: Sequence[np.ndarray]) -> None:
    for s in scores:
        if not np.all(np.isfinite(s)):
            raise ConfigError("the ranking has non-finite scores (NaN/inf γ or weights: did training diverge?); "
                              "prune a run that finished with finite weights.")


def select(scores: Sequence[np.ndarray], threshold: float, min_channels: int = 1,
           limits: GroupLimits | None = None) -> Selection:
    """Remove channels scored under `threshold`; a group keeps at least `min_channels` (its top-scored ones), and
    under `limits` at least its own minimum, rounded up to a multiple of `limits.round_to` (or its full width).

    The selection records the threshold actually applied: one outside the scores' range (±inf included) is
    moved to the nearest value that gives the same plan, so reports never carry an infinite threshold.
    """
    present = [s for s in scores if len(s)]
    if present:
        low, high = min(float(np.min(s)) for s in present), max(float(np.max(s)) for s in present)
        threshold = min(max(float(threshold), low), float(np.nextafter(high, np.inf)))
    plan, clamped = [], False
    for i, s in enumerate(scores):
        n = len(s)
        below = int(np.count_nonzero(s < threshold))
        floor = min(min_channels, n)
        keep = max(n - below, floor)
        clamped |= n - below < floor
        if limits is not None:
            keep = rounded_width(max(keep, limits.min_kept[i]), n, limits.round_to)
        # stable descending order: ties keep the lower index, so a plan is a function of the scores alone
        order = np.argsort(-np.asarray(s, dtype=np.float64), kind="stable")
        plan.append(tuple(sorted(int(i) for i in order[keep:])))
    return Selection(tuple(plan), float(threshold), bool(clamped))


def candidate_thresholds(scores: Sequence[np.ndarray]) -> np.ndarray:
    """Every threshold that gives a different plan: each distinct score, then one just above the largest."""
    values = np.unique(np.concatenate([np.asarray(s, dtype=np.float64) for s in scores])) if scores else np.zeros(1)
    return np.append(values, np.nextafter(values[-1], np.inf))


def select_flops(scores: Sequence[np.ndarray], flops_ratio: float, macs_of: Callable[[Plan], int],
                 min_channels: int = 1, limits: GroupLimits | None = None) -> Selection:
    """The lowest threshold whose plan keeps at most `flops_ratio` of the unpruned MACs (LeGR's budget rule).

    MACs never grow as the threshold rises (plans are nested, and rounding a width up is monotone too), so a
    binary search over the distinct scores finds it. If even the smallest allowed widths stay above the budget,
    that plan is returned, clamped.
    """
    def at(i: int) -> Selection:
        return select(scores, float(candidates[i]), min_channels, limits)

    candidates = candidate_thresholds(scores)
    base = macs_of(at(0).plan)
    budget = flops_ratio * base
    lo, hi = 0, len(candidates) - 1
    last = at(hi)
    if macs_of(last.plan) > budget:
        return Selection(last.plan, last.threshold, True)
    while lo < hi:
        mid = (lo + hi) // 2
        if macs_of(at(mid).plan) <= budget:
            hi = mid
        else:
            lo = mid + 1
    return at(lo)


def curve_targets(points: int) -> list[float]:
    """FLOPs shares for a curve of `points` points, evenly spaced: 1 − 1/points, …, 1/points, 0 (the smallest model)."""
    return [1 - i / points for i in range(1, points + 1)]
