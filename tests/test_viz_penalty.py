"""Penalty shapes for the Learn page (`slimcore.viz.penalty`): R(x) and prox_t(x) of each penalty side by side."""
from __future__ import annotations

import numpy as np

from slimcore.viz import penalty_curves, penalty_plot

from conftest import valid_figure as valid


def test_penalty_plot_draws_value_and_prox_for_each_penalty():
    from slimcore.penalties import get

    pens = {"l1": get("l1", lam=1.0), "tl1": get("tl1", lam=1.0, a=1.0)}
    fig = valid(penalty_plot(pens, step=0.5, n=201))
    names = [t.name for t in fig.data]
    assert names.count("l1") == 3 and names.count("tl1") == 3 and "y = x (no penalty)" in names  # R, R′, prox
    slope = [t for t in fig.data if t.name == "l1" and t.xaxis == "x2"][0]
    assert set(np.asarray(slope.y, dtype=float)[~np.isnan(np.asarray(slope.y, dtype=float))]) <= {-1.0, 0.0, 1.0}
    value, prox = penalty_curves(pens["l1"], 0.5, np.array([-2.0, 0.3, 1.0]))
    assert value.tolist() == [2.0, 0.3, 1.0]
    assert prox.tolist() == [-1.5, 0.0, 0.5]  # soft threshold by t = 0.5


def test_a_discontinuous_prox_is_drawn_with_a_gap_at_its_jump():
    from slimcore.penalties import get
    from slimcore.penalties.thresholding import tl1_tau

    fig = valid(penalty_plot({"tl1": get("tl1", lam=1.0, a=0.1)}, step=1.0, x_max=2.0, n=401))
    prox = [t for t in fig.data if t.name == "tl1" and t.xaxis == "x3"][0]  # the right panel
    y = np.asarray(prox.y, dtype=float)
    assert np.isnan(y).sum() == 2  # one gap on each side of zero: the prox jumps from 0 at ±τ
    x = np.asarray(prox.x, dtype=float)
    tau = tl1_tau(1.0, 0.1)
    zero, moved = np.abs(x[y == 0]), np.abs(x[np.abs(np.nan_to_num(y)) > 0])
    assert zero.max() <= tau < moved.min() and moved.min() - zero.max() < 0.011  # the gap is at the threshold
