"""LeGR's search on a trained run: learn the per-layer affine map of the |γ| ranking (Chin et al., CVPR 2020).

A candidate (α, κ) ranks channels by α_l·|γ| + κ_l; its fitness is the accuracy after pruning to the FLOPs
target and τ short fine-tuning steps, on a slice held out from the training images (the fine-tuning steps use the
rest): val stays unseen, so the curve's val accuracy of the learned ranking is not the number the search
maximised. The best (α, κ) is stored with the run (artifact `legr`), so
one learned ranking then serves every threshold of the slider.
"""
from __future__ import annotations

import secrets
import time
from typing import Callable

import numpy as np

from slimcore.pruning.math.evolution import Progress, evolve
from slimcore.pruning.math.plan import select_flops
from slimcore.pruning.math.rankings import affine_scores, bn_scores
from slimcore.pruning.settings import LegrSettings
from slimcore.store.files import read_json, write_json
from slimcore.store.runs import RunStore

ARTIFACT = "legr"


def checkpoint_key(store: RunStore, run_id: str) -> dict | None:
    """What a result computed from run `run_id` depends on: its latest checkpoint (None when it has none)."""
    ckpt = store.latest_checkpoint(run_id)
    return None if ckpt is None else {"checkpoint": str(ckpt["path"]), "step": ckpt["step"]}


def stored_legr(store: RunStore, run_id: str) -> dict | None:
    """The run's stored LeGR result, or None (none yet, or made from an older checkpoint than the latest)."""
    art = store.artifact(run_id, ARTIFACT)
    if art is None or not art.get("path"):
        return None
    result = read_json(art["path"])
    if result is None or result.get("checkpoint") != checkpoint_key(store, run_id):
        return None
    return result


def search_legr(store: RunStore, run_id: str, settings: LegrSettings | None = None, progress: Progress | None = None,
                should_stop: Callable[[], bool] | None = None) -> dict:
    """Learns (α, κ) for the run's groups and stores them as its `legr` artifact; returns the stored result.

    A stop keeps the best candidate found so far (stored with "complete": false); with none evaluated yet
    nothing is stored.
    """
    from slimcore.analysis.structure import pruned_model
    from slimcore.pruning.finetune import train_steps
    from slimcore.pruning.trained import load_trained
    from slimcore.training.evaluate import evaluate

    from slimcore.data.splits import hold_out

    p = settings or LegrSettings()
    trained = load_trained(store, run_id)
    fit_data, held = hold_out(trained.data, p.held_out)
    structure, model = trained.structure, trained.model
    base = bn_scores(model, structure.groups)
    flat = np.concatenate(base) if base else np.zeros(1)
    spread = float(flat.std()) or 1.0
    kappa_std = [float(np.std(s)) or spread for s in base]  # LeGR: κ noise of each layer's own score spread
    started = time.perf_counter()

    def fitness(alpha: np.ndarray, kappa: np.ndarray) -> float:
        sel = select_flops(affine_scores(base, alpha, kappa), p.flops_ratio, structure.macs, p.min_channels)
        pruned = pruned_model(model, structure, sel.plan, trained.compensation)
        train_steps(pruned, fit_data, trained.config, p.steps, p.lr, p.batch_size, p.seed)
        return evaluate(pruned, held)[1]

    out = evolve(len(structure.groups), fitness, p.population, p.sample, p.generations, p.sigma, kappa_std,
                 p.seed, progress, should_stop, p.mutate_share)
    best = out["best"]
    result = {
        "ranking": "legr", "run_id": run_id, "complete": not out["stopped"], "stopped": out["stopped"],
        "evaluated": out["evaluated"], "total": out["total"], "params": p.to_dict(),
        "seconds": round(time.perf_counter() - started, 2), "history": out["history"],
        "groups": [g.name for g in structure.groups], "checkpoint": trained.cache_key,
        "fitness": None if best is None else best.fitness, "scored_on": f"{len(held)} held-out training images",
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
