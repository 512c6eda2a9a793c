"""A total order over channels whose scores tie: proximal training leaves many γ exactly 0, and a threshold cannot
split a block of equal scores, so the curve could only remove all of them at once (72 % of the channels in one
step on a 16-epoch proximal run). Within each block of equal scores, channels are put in the order of a secondary
key (removed first: the smallest) by moving each up by whole units in the last place: the first stays at the
tied value, the k-th moves k ulps up. Distinct scores keep their order and a block keeps its place among them:
a threshold that removed the whole block (anything above the tied value by more than the block's few ulps) still
does, and one that removed none of it (at or below the value) still does. For a block at 0 the steps are
denormal numbers (k·5e-324), so `--threshold 1e-30` still removes exactly the channels whose γ is 0."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def break_ties(scores: Sequence[np.ndarray], secondary: Sequence[np.ndarray]) -> list[np.ndarray]:
    """`scores` with every block of equal values ordered by `secondary` (ascending; ties there by group, then
    channel index), each member lifted by its rank within the block times the value's spacing."""
    flat = np.concatenate([np.asarray(s, dtype=np.float64) for s in scores]) if scores else np.zeros(0)
    if flat.size == 0:
        return [np.asarray(s, dtype=np.float64) for s in scores]
    key = np.concatenate([np.asarray(k, dtype=np.float64) for k in secondary])
    # lexicographic: by score, then the secondary key, then position (stable)
    order = np.lexsort((np.arange(flat.size), key, flat))
    ranked = flat[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    rank_in_block = np.arange(flat.size) - np.repeat(starts, np.diff(np.r_[starts, flat.size]))
    lifted = ranked + rank_in_block * np.spacing(np.abs(ranked))
    out = np.empty_like(flat)
    out[order] = lifted
    parts, at = [], 0
    for s in scores:
        parts.append(out[at: at + len(s)])
        at += len(s)
    return parts
