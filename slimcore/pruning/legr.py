"""LeGR: learning the per-layer affine map of a global ranking by regularised evolution (Chin et al., CVPR 2020).

A candidate (α, κ) ranks channels by α_l·|γ| + κ_l; its fitness is the val accuracy after pruning to the FLOPs
target and τ short fine-tuning steps. Each generation samples a few candidates, mutates the best, evaluates the
child and retires the oldest (aging evolution, Real et al. 2019). The best (α, κ) is stored with the run, so
one learned ranking then serves every threshold of the slider.
"""
from __future__ import annotations

import math
import secrets
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

import numpy as np

from slimcore.errors import ConfigError
from slimcore.pruning.plan import check_flops_ratio, check_min_channels, select_flops
from slimcore.pruning.rankings import affine_scores, bn_scores
from slimcore.pruning.storage import read_json, write_json
from slimcore.store.runs import RunStore

Progress = Callable[[int, int, str], None]

# Sized so the search on the default run (slimnet, mnist5k) takes about a minute on a 2-core CPU (48 candidates
# of ~1 s each); the paper's code uses population 64, sample 16, ~400 generations and τ = 200 steps on CIFAR.
LEGR_DEFAULTS: dict = {
    "flops_ratio": 0.5,  # the FLOPs share the fitness prunes to (the smallest target of interest)
    "population": 12,
    "sample": 4,
    "generations": 36,
    "steps": 40,  # τ: fine-tuning steps per candidate
    "lr": 0.01,
    "batch_size": 64,
    "sigma": 0.5,  # mutation scale: α ← α·exp(σ·N), κ ← κ + σ·median|γ|·N
    "seed": 0,
    "min_channels": 1,
}
ARTIFACT = "legr"


def check_params(params: dict) -> dict:
    """LEGR_DEFAULTS updated with `params`; unknown names or bad values raise ConfigError."""
    unknown = sorted(set(params) - set(LEGR_DEFAULTS))
    if unknown:
        raise ConfigError(f"LeGR has no parameter {', '.join(unknown)}; its parameters: {', '.join(LEGR_DEFAULTS)}.")
    p = {**LEGR_DEFAULTS, **{k: v for k, v in params.items() if v is not None}}
    p["flops_ratio"] = check_flops_ratio(p["flops_ratio"])
    p["min_channels"] = check_min_channels(p["min_channels"])
    for name in ("population", "sample", "batch_size"):
        if isinstance(p[name], bool) or not isinstance(p[name], int) or p[name] < 1:
            raise ConfigError(f"LeGR {name} must be an integer >= 1, got {p[name]!r}.")
    for name in ("generations", "steps", "seed"):
        if isinstance(p[name], bool) or not isinstance(p[name], int) or p[name] < 0:
            raise ConfigError(f"LeGR {name} must be an integer >= 0, got {p[name]!r}.")
    if p["sample"] > p["population"]:
        raise ConfigError(f"LeGR sample ({p['sample']}) cannot exceed the population ({p['population']}).")
    for name in ("lr", "sigma"):
        if isinstance(p[name], bool) or not isinstance(p[name], (int, float)) or not (math.isfinite(p[name]) and p[name] > 0):
            raise ConfigError(f"LeGR {name} must be a number > 0, got {p[name]!r}.")
    return p


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


def stored_legr(store: RunStore, run_id: str, trained=None) -> dict | None:
    """The run's stored LeGR result, or None (none yet, or made from an older checkpoint than `trained`'s)."""
    art = store.artifact(run_id, ARTIFACT)
    if art is None or not art.get("path"):
        return None
    result = read_json(art["path"])
    if result is None or (trained is not None and result.get("checkpoint") != trained.cache_key):
        return None
    return result


def search_legr(store: RunStore, run_id: str, progress: Progress | None = None,
                should_stop: Callable[[], bool] | None = None, **params) -> dict:
    """Learns (α, κ) for the run's groups and stores them as its `legr` artifact; returns the stored result.

    A stop keeps the best candidate found so far (stored with "complete": false); with none evaluated yet
    nothing is stored.
    """
    from slimcore.pruning.structure import pruned_model
    from slimcore.pruning.finetune import train_steps
    from slimcore.pruning.trained import load_trained
    from slimcore.training.evaluate import evaluate

    p = check_params(params)
    trained = load_trained(store, run_id)
    structure, model = trained.structure, trained.model
    base = bn_scores(model, structure.groups)
    flat = np.concatenate(base) if base else np.zeros(1)
    kappa_scale = float(np.median(flat)) or float(flat.mean()) or 1.0
    started = time.perf_counter()

    def fitness(alpha: np.ndarray, kappa: np.ndarray) -> float:
        sel = select_flops(affine_scores(base, alpha, kappa), p["flops_ratio"], structure.macs, p["min_channels"])
        pruned = pruned_model(model, structure, sel.plan)
        train_steps(pruned, trained.data, p["steps"], p["lr"], p["batch_size"], p["seed"],
                    trained.config.get("momentum", 0.9), trained.config.get("weight_decay", 1e-4))
        return evaluate(pruned, trained.data.val)[1]

    out = evolve(len(structure.groups), fitness, p["population"], p["sample"], p["generations"], p["sigma"],
                 kappa_scale, p["seed"], progress, should_stop)
    best = out["best"]
    result = {
        "ranking": "legr", "run_id": run_id, "complete": not out["stopped"], "stopped": out["stopped"],
        "evaluated": out["evaluated"], "total": out["total"], "params": p,
        "seconds": round(time.perf_counter() - started, 2), "history": out["history"],
        "groups": [g.name for g in structure.groups], "checkpoint": trained.cache_key,
        "fitness": None if best is None else best.fitness,
        "identity_fitness": out["history"][0]["fitness"] if out["history"] else None,
    }
    if best is None:
        return result
    result["alpha"] = [float(a) for a in best.alpha]
    result["kappa"] = [float(k) for k in best.kappa]
    result["search_id"] = secrets.token_hex(4)
    path = store.run_dir(run_id) / "legr.json"
    write_json(path, result)
    store.put_artifact(run_id, ARTIFACT, "ranking", str(path), {
        "search_id": result["search_id"], "fitness": result["fitness"], "complete": result["complete"]})
    return result

