"""The Learn page's experiments, checked against what each mode and penalty must do."""
from __future__ import annotations

import numpy as np
import pytest

from slimcore.penalties import get
from slimcore.penalties.demo import ista_rescaling_race, mode_race, run_step, toy_targets, tpp_gram_fade


def test_toy_targets_mark_the_useful_share():
    assert toy_targets(12).tolist() == [1.0] * 6 + [0.0] * 6
    assert toy_targets(5, 0.2).tolist() == [1, 0, 0, 0, 0]


@pytest.mark.parametrize("name", ["l1", "tl1", "lp"])
def test_proximal_reaches_exact_zero_where_subgradient_only_oscillates(name):
    c = toy_targets(12)
    paths = mode_race(get(name, lam=1.0), 0.05, 200, np.ones(12), c)
    assert paths["subgradient"].shape == paths["proximal"].shape == (201, 12)
    assert np.all(paths["subgradient"][0] == 1) and np.all(paths["proximal"][0] == 1)
    useless = c == 0
    assert np.all(paths["proximal"][-1][useless] == 0)
    assert np.all(paths["subgradient"][-1][useless] != 0)
    if name != "lp":  # ℓp's slope grows without bound near 0: its subgradient steps jump about instead
        assert np.all(np.abs(paths["subgradient"][-1][useless]) < 0.1)  # near 0, never on it
    assert np.all(paths["proximal"][-1][~useless] > 0.4)  # the data holds the useful ones up


def test_l1_proximal_fixed_point_is_the_target_shrunk_by_t_over_lr():
    """At the fixed point of γ ← soft(γ − lr(γ − 1), t): γ = 1 − t/lr (ℓ1's bias on a useful channel)."""
    paths = mode_race(get("l1", lam=1.0), 0.02, 500, np.ones(1), np.ones(1), lr=0.1)
    assert paths["proximal"][-1][0] == pytest.approx(1 - 0.02 / 0.1, abs=1e-9)


def test_ista_rescaling_keeps_the_function_and_zeroes_sooner_for_smaller_alpha():
    races = ista_rescaling_race([1.0, 0.5, 0.25], steps=80)
    assert all(r.output_change < 1e-5 for r in races)
    first = [int(np.flatnonzero(r.zero_share >= 0.25)[0]) for r in races]  # steps to a quarter of γ at 0
    assert first[0] > first[1] > first[2]


def test_tpp_fades_the_chosen_filters_and_their_gram_entries_only():
    fade = tpp_gram_fade(steps=150)
    keep = fade.keep
    assert keep.sum() == 8 and (~keep).sum() == 8  # ratio 0.5 of 16 filters
    cross_before, cross_after = fade.before[np.ix_(~keep, keep)].max(), fade.after[np.ix_(~keep, keep)].max()
    assert cross_after < 0.05 * cross_before
    assert fade.chosen_norm[-1] < 0.2 * fade.chosen_norm[0]
    assert abs(fade.kept_norm[-1] - fade.kept_norm[0]) < 0.05 * fade.kept_norm[0]  # they move only through the
    # cross terms, by little


def test_run_step_is_lam_lr_over_one_minus_momentum():
    assert run_step({"lam": 0.01, "lr": 0.05, "momentum": 0.9}) == pytest.approx(0.005)
    assert run_step({"lam": 0.0, "lr": 0.05, "momentum": 0.9}) == 0
