"""LeGR's regularised evolution (Chin et al., CVPR 2020; the aging evolution of Real et al. 2019), as pure math.

A candidate is one affine map (α_l, κ_l) per layer; `evolve` asks a fitness function for its score. Each
generation samples a few candidates, mutates the best, evaluates the child and retires the oldest.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable

import numpy as np

Progress = Callable[[int, int, str], None]


@dataclass
class Candidate:
    alpha: np.ndarray
    kappa: np.ndarray
    fitness: float


def normalise(kappa: np.ndarray) -> np.ndarray:
    """Shift κ so its smallest entry is 0: a common shift leaves the ranking unchanged and keeps scores ≥ 0."""
    return kappa - kappa.min() if kappa.size else kappa


def mutate(alpha: np.ndarray, kappa: np.ndarray, rng: np.random.Generator, sigma: float, kappa_std,
           share: float = 0.1, step: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """LeGR's mutation (Chin et al.'s code, ported as such to NNCF): ⌊share·L⌋ layer indices (at least one) drawn
    with replacement; on each, α ← α·exp(N(0, σ·step)) (stays > 0) and κ ← κ + N(0, std_l), std_l the spread of
    that layer's own scores."""
    n = len(alpha)
    chosen = np.zeros(n, dtype=bool)
    chosen[rng.choice(n, size=max(1, int(share * n)), replace=True)] = True
    std = np.broadcast_to(np.asarray(kappa_std, dtype=np.float64), (n,))
    a = alpha * np.exp(sigma * step * rng.standard_normal(n) * chosen)
    k = kappa + std * rng.standard_normal(n) * chosen
    return a, normalise(k)


def random_candidate(n: int, rng: np.random.Generator, sigma: float, kappa_std) -> tuple[np.ndarray, np.ndarray]:
    """A member of LeGR's first population: α = exp(N(0, σ)), κ = N(0, std_l) on every layer."""
    std = np.broadcast_to(np.asarray(kappa_std, dtype=np.float64), (n,))
    return np.exp(sigma * rng.standard_normal(n)), normalise(std * rng.standard_normal(n))


def evolve(n_layers: int, fitness: Callable[[np.ndarray, np.ndarray], float], population: int, sample: int,
           generations: int, sigma: float, kappa_std, seed: int = 0, progress: Progress | None = None,
           should_stop: Callable[[], bool] | None = None, mutate_share: float = 0.1) -> dict:
    """Regularised evolution as in LeGR's code: a first population of the identity map (α = 1, κ = 0) and random
    maps, then per generation `sample` members drawn with replacement, the fittest mutated (its α noise annealed
    by 1 − g / (1.25·generations)), the child added and the oldest retired. Returns the best and the history."""
    rng = np.random.default_rng(seed)
    total = population + generations
    alive: deque[Candidate] = deque()
    best: Candidate | None = None
    history: list[dict] = []
    stopped = False
    for i in range(total):
        if should_stop is not None and should_stop():
            stopped = True
            break
        if i == 0:
            alpha, kappa = np.ones(n_layers), np.zeros(n_layers)
        elif i < population:
            alpha, kappa = random_candidate(n_layers, rng, sigma, kappa_std)
        else:
            picks = rng.choice(len(alive), size=sample, replace=True)
            parent = max((alive[j] for j in picks), key=lambda c: c.fitness)
            step = 1.0 - (i - population) / (1.25 * generations)
            alpha, kappa = mutate(parent.alpha, parent.kappa, rng, sigma, kappa_std, mutate_share, step)
        child = Candidate(alpha, kappa, float(fitness(alpha, kappa)))
        alive.append(child)
        if len(alive) > population:
            alive.popleft()  # aging: the oldest goes, whatever its fitness
        if best is None or child.fitness > best.fitness:
            best = child
        history.append({"candidate": i + 1, "fitness": child.fitness, "best": best.fitness})
        if progress is not None:
            progress(i + 1, total, f"LeGR candidate {i + 1}/{total}: fitness {child.fitness:.4f} "
                                   f"(best {best.fitness:.4f})")
    return {"best": best, "history": history, "stopped": stopped, "evaluated": len(history), "total": total}
