"""LeGR's regularised evolution as pure math (`slimcore.pruning.math.evolution`): mutation changes a share of the
layers with noise scaled per layer, keeps α > 0 and κ anchored at 0; the search improves on the identity map it
starts from, reports progress and stops when asked."""
from __future__ import annotations

import numpy as np

from slimcore.pruning.math.evolution import evolve, mutate, normalise, random_candidate


def test_mutation_keeps_alpha_positive_and_kappa_anchored_at_zero():
    rng = np.random.default_rng(0)
    a, k = np.ones(6), np.zeros(6)
    for _ in range(50):
        a, k = mutate(a, k, rng, sigma=1.0, kappa_std=0.5)
        assert np.all(a > 0) and k.min() == 0
    assert np.allclose(normalise(np.array([2.0, 3.0])), [0.0, 1.0])


def test_a_mutation_changes_a_tenth_of_the_layers_at_most_with_noise_of_each_layers_spread():
    rng = np.random.default_rng(0)
    std = np.where(np.arange(40) % 2 == 0, 0.0, 1.0)  # even layers: scores without spread
    for _ in range(30):
        a, k = mutate(np.ones(40), np.full(40, 5.0), rng, sigma=1.0, kappa_std=std)
        changed = a != 1
        assert 1 <= changed.sum() <= 4  # ⌊0.1·40⌋ indices drawn with replacement
        assert np.all(k[std == 0] == k[std == 0][0])  # κ of spread-less layers moves only by the common shift
    a, _ = mutate(np.ones(3), np.zeros(3), rng, sigma=1.0, kappa_std=1.0)
    assert (a != 1).sum() == 1  # a small network still changes one layer
    a0, _ = mutate(np.ones(40), np.zeros(40), np.random.default_rng(1), 1.0, 1.0, step=0.0)
    assert np.all(a0 == 1)  # the annealed α step reaches 0
    ra, rk = random_candidate(5, rng, 1.0, 2.0)
    assert np.all(ra > 0) and np.all(ra != 1) and rk.min() == 0


def test_evolution_improves_reports_progress_and_stops():
    target = np.array([2.0, 0.5, 1.0])

    def fitness(alpha, kappa):
        return -float(np.abs(np.log(alpha) - np.log(target)).sum() + kappa.sum())

    calls = []
    out = evolve(3, fitness, population=6, sample=3, generations=60, sigma=0.5, kappa_std=0.1,
                 progress=lambda d, t, m: calls.append((d, t)))
    assert calls[-1] == (66, 66) and out["evaluated"] == 66 and not out["stopped"]
    assert out["best"].fitness > out["history"][0]["fitness"]  # beats the identity map it starts from
    stop_after = iter(range(100))
    out = evolve(3, fitness, 6, 3, 60, 0.5, 0.1, should_stop=lambda: next(stop_after) >= 4)
    assert out["stopped"] and out["evaluated"] == 4


def test_the_first_candidate_is_the_identity_and_the_oldest_is_retired_whatever_its_fitness():
    seen = []

    def fitness(alpha, kappa):
        seen.append(alpha.copy())
        return -len(seen)  # each candidate is worse than every one before it

    out = evolve(40, fitness, population=2, sample=2, generations=2, sigma=0.3, kappa_std=1.0, seed=1)
    assert np.array_equal(seen[0], np.ones(40)) and out["best"].fitness == -1  # the identity map, never beaten
    assert np.all(seen[1] != 1)  # the rest of the first population is random on every layer
    assert [h["candidate"] for h in out["history"]] == [1, 2, 3, 4] and [h["best"] for h in out["history"]] == [-1] * 4
    # candidate 3 is bred from a member alive (the identity or candidate 2) by changing at most 4 layers; adding
    # it retires the identity (the oldest), so candidate 4 is bred from candidate 2 or 3
    assert min((seen[2] != seen[0]).sum(), (seen[2] != seen[1]).sum()) <= 4
    assert min((seen[3] != seen[1]).sum(), (seen[3] != seen[2]).sum()) <= 4
    assert (seen[3] != seen[0]).sum() > 4


def test_the_same_seed_gives_the_same_search():
    def run(seed):
        return evolve(3, lambda a, k: float(-np.abs(np.log(a)).sum() - k.sum()), 4, 2, 10, 0.5, 0.2, seed=seed)

    a, b, c = run(3), run(3), run(4)
    assert np.array_equal(a["best"].alpha, b["best"].alpha) and a["history"] == b["history"]
    assert a["history"] != c["history"]


def test_normalise_shifts_kappa_so_its_minimum_is_zero():
    assert normalise(np.array([2.0, 3.0, -1.0])).tolist() == [3.0, 4.0, 0.0]
    assert normalise(np.zeros(0)).size == 0
