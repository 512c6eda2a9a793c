"""The Learn page's experiment figures: one trace per channel and mode, titles that say the share at exactly 0."""
from __future__ import annotations

import numpy as np

from slimcore.penalties import get
from slimcore.penalties.demo import ista_rescaling_race, mode_race, toy_targets, tpp_gram_fade
from slimcore.viz import gram_plot, mode_race_plot, rescaling_plot


def test_mode_race_plot_titles_count_the_exact_zeros():
    paths = mode_race(get("l1", lam=1.0), 0.05, 100, np.ones(4), toy_targets(4))
    fig = mode_race_plot(paths, toy_targets(4))
    assert len(fig.data) == 8
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["subgradient: 0% exactly 0, 0% below 0.01", "proximal: 50% exactly 0, 50% below 0.01"]
    assert sum(bool(t.showlegend) for t in fig.data) == 2


def test_rescaling_and_gram_plots_draw_every_alpha_and_both_matrices():
    races = ista_rescaling_race([1.0, 0.5], steps=5)
    fig = rescaling_plot(races)
    assert [t.name for t in fig.data] == ["α = 1 (no rescaling)", "α = 0.5"]
    fade = tpp_gram_fade(steps=5)
    g = gram_plot(fade.before, fade.after, fade.keep)
    assert len(g.data) == 2 and g.data[0].z.shape == (16, 16)
    assert list(g.data[0].x[:8]) == [f"kept {i}" for i in np.flatnonzero(fade.keep)]
