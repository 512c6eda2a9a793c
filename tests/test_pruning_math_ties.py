"""Breaking ties between equal scores: a total order that keeps every distinct score's place."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from slimcore.pruning.math.plan import select
from slimcore.pruning.math.ties import break_ties


def test_a_block_of_zeros_is_ordered_by_the_secondary_key_and_stays_below_1e_30():
    scores = [np.array([0.0, 0.5, 0.0]), np.array([0.0, 0.2])]
    secondary = [np.array([3.0, 0.0, 1.0]), np.array([2.0, 9.0])]
    out = break_ties(scores, secondary)
    zeros = {(0, 0): out[0][0], (0, 2): out[0][2], (1, 0): out[1][0]}
    assert out[0][2] == 0.0 < out[1][0] < out[0][0] < 1e-30  # secondary 1 < 2 < 3
    assert out[0][1] == 0.5 and out[1][1] == 0.2
    assert len(set(zeros.values())) == 3
    plan = select(out, 1e-30).plan
    assert plan == ((0, 2), (0,))  # all the exact zeros, nothing else


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from([0.0, 0.0, 0.1, 0.25, 1.0, 3.5]), min_size=1, max_size=12),
                min_size=1, max_size=4), st.integers(0, 2**16))
def test_distinct_scores_keep_their_order_and_every_block_splits(groups, seed):
    scores = [np.array(g) for g in groups]
    rng = np.random.default_rng(seed)
    secondary = [rng.random(len(g)) for g in groups]
    out = break_ties(scores, secondary)
    flat, new = np.concatenate(scores), np.concatenate(out)
    assert len(np.unique(new)) == new.size  # a total order
    for i in range(flat.size):
        for j in range(flat.size):
            if flat[i] < flat[j]:
                assert new[i] < new[j]
    for value in np.unique(flat):  # a threshold at or below a tied value removes none of its block, just above all
        block = flat == value
        assert not np.any(new[block] < value)
        above = np.nextafter(new[block].max(), np.inf)
        assert np.all(new[block] < above) and not np.any(new[~block & (flat > value)] < above)
