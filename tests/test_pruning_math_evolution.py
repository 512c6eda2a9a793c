"""LeGR's regularised evolution as pure math (`slimcore.pruning.math.evolution`): mutation keeps α > 0 and κ anchored
at 0; the search improves on the identity map it starts from, reports progress and stops when asked."""
from __future__ import annotations

import numpy as np

from slimcore.pruning.math.evolution import evolve, mutate, normalise


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


def test_the_first_candidate_is_the_identity_and_the_oldest_is_retired_whatever_its_fitness():
    seen = []

    def fitness(alpha, kappa):
        seen.append(alpha.copy())
        return -len(seen)  # each candidate is worse than every one before it

    out = evolve(40, fitness, population=2, sample=2, generations=2, sigma=0.3, kappa_scale=1.0, seed=1)
    assert np.array_equal(seen[0], np.ones(40)) and out["best"].fitness == -1  # the identity map, never beaten
    assert [h["candidate"] for h in out["history"]] == [1, 2, 3, 4] and [h["best"] for h in out["history"]] == [-1] * 4
    # candidate 3 is bred from the fittest alive, the identity; adding it retires the identity (the oldest), so
    # candidate 4 is bred from candidate 2: it keeps some of candidate 2's mutated entries
    assert np.all((seen[2] == 1) | (seen[2] != seen[1]))
    assert np.any((seen[3] == seen[1]) & (seen[1] != 1))


def test_the_same_seed_gives_the_same_search():
    def run(seed):
        return evolve(3, lambda a, k: float(-np.abs(np.log(a)).sum() - k.sum()), 4, 2, 10, 0.5, 0.2, seed=seed)

    a, b, c = run(3), run(3), run(4)
    assert np.array_equal(a["best"].alpha, b["best"].alpha) and a["history"] == b["history"]
    assert a["history"] != c["history"]


def test_normalise_shifts_kappa_so_its_minimum_is_zero():
    assert normalise(np.array([2.0, 3.0, -1.0])).tolist() == [3.0, 4.0, 0.0]
    assert normalise(np.zeros(0)).size == 0
