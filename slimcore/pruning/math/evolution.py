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


def mutate(alpha: np.ndarray, kappa: np.ndarray, rng: np.random.Generator, sigma: float,
           kappa_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian noise on a random subset of layers (at least one): α multiplicatively (stays > 0), κ additively."""
    n = len(alpha)
    chosen = rng.random(n) < 0.5
    chosen[rng.integers(n)] = True
    a = alpha * np.exp(sigma * rng.standard_normal(n) * chosen)
    k = kappa + sigma * kappa_scale * rng.standard_normal(n) * chosen
    return a, normalise(k)


def evolve(n_layers: int, fitness: Callable[[np.ndarray, np.ndarray], float], population: int, sample: int,
           generations: int, sigma: float, kappa_scale: float, seed: int = 0, progress: Progress | None = None,
           should_stop: Callable[[], bool] | None = None) -> dict:
    """Regularised evolution from the identity map (α = 1, κ = 0); returns the best candidate and the history."""
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
            alpha, kappa = mutate(np.ones(n_layers), np.zeros(n_layers), rng, sigma, kappa_scale)
        else:
            picks = rng.choice(len(alive), size=min(sample, len(alive)), replace=False)
            parent = max((alive[j] for j in picks), key=lambda c: c.fitness)
            alpha, kappa = mutate(parent.alpha, parent.kappa, rng, sigma, kappa_scale)
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
