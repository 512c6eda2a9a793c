"""Previewing a prune: the accuracy/FLOPs trade-off curve of a run (computed once, then served from the store)
and exact single points. Every accuracy is that of exactly the model `commit` builds, on the val split."""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

from slimcore.errors import ConfigError
from slimcore.pruning.legr import search_legr, stored_legr
from slimcore.pruning.plan import (Selection, check_min_channels, check_scores, check_target, curve_targets,
                                   requested_threshold, select, select_flops)
from slimcore.pruning.rankings import RANKINGS
from slimcore.pruning.storage import read_json, write_json
from slimcore.pruning.structure import pruned_model
from slimcore.pruning.trained import TrainedRun, load_trained
from slimcore.store.runs import RunStore
from slimcore.training.evaluate import evaluate

Progress = Callable[[int, int, str], None]
DEFINITIONS = {"macs": "multiply-accumulates of every conv and linear layer for one input",
               "flops": "2 × macs (as torch.utils.flop_counter counts them)"}
MAX_POINTS = 1000


def ranking_scores(store: RunStore, trained: TrainedRun, ranking: str,
                   progress: Progress | None = None) -> tuple[list[np.ndarray], dict | None]:
    """(scores per group, the learned state they used); a missing LeGR search is run first with its defaults."""
    cls = RANKINGS.get(ranking)
    learned = None
    if cls.needs_search:
        learned = stored_legr(store, trained.run_id, trained)
        if learned is None:
            learned = search_legr(store, trained.run_id, progress=progress)
            if "alpha" not in learned:
                raise ConfigError("the LeGR search was stopped before its first candidate; run it again.")
    scores = cls().scores(trained.model, trained.structure.groups, learned)
    check_scores(scores)
    return scores, learned


def selection_for(trained: TrainedRun, scores: list[np.ndarray], threshold: float | None,
                  flops_ratio: float | None, min_channels: int) -> Selection:
    """The plan for a threshold, or for the lowest threshold that meets a FLOPs ratio."""
    if threshold is not None:
        return select(scores, threshold, min_channels)
    return select_flops(scores, flops_ratio, trained.structure.macs, min_channels)


def describe_point(trained: TrainedRun, selection: Selection | None, accuracy: float, params: int) -> dict:
    """The JSON of one point: threshold, macs, flops, params, val accuracy, per-BN widths, and how it was cut."""
    st = trained.structure
    plan = selection.plan if selection is not None else st.empty_plan()
    macs, base_macs = st.macs(plan), st.macs(st.empty_plan())
    return {
        "threshold": None if selection is None else selection.threshold,
        "macs": macs, "flops": 2 * macs, "params": int(params), "accuracy": accuracy,
        "flops_ratio": macs / base_macs if base_macs else 1.0,
        "removed_channels": 0 if selection is None else selection.removed,
        "clamped": False if selection is None else selection.clamped,
        "widths": st.widths(plan),
    }


def measure(trained: TrainedRun, selection: Selection | None, split: str = "val") -> tuple[dict, object]:
    """Builds the committed model of a selection (the unpruned one for None), evaluates it: (point, model)."""
    st = trained.structure
    model = pruned_model(trained.model, st, selection.plan if selection is not None else st.empty_plan())
    accuracy = evaluate(model, getattr(trained.data, split))[1]
    return describe_point(trained, selection, accuracy, sum(p.numel() for p in model.parameters())), model


def _curve_key(trained: TrainedRun, ranking: str, points: int, min_channels: int, learned: dict | None) -> dict:
    return {"ranking": ranking, "points": points, "min_channels": min_channels, **trained.cache_key,
            "search_id": (learned or {}).get("search_id")}


def get_curve(store: RunStore, run_id: str, ranking: str = "bn", points: int = 50, progress: Progress | None = None,
              recompute: bool = False, min_channels: int = 1) -> dict:
    """The trade-off curve {"base", "points": [...]} of a run under a ranking, computed once and then read back.

    Point i is the lowest threshold keeping at most 1 − i/points of the FLOPs (evenly spaced along the FLOPs axis;
    the last is the smallest model the minimum widths allow); its accuracy is the committed model's on val.
    `legr` without a stored search runs one first (reported through `progress`).
    """
    RANKINGS.get(ranking)
    if isinstance(points, bool) or not isinstance(points, int) or not 1 <= points <= MAX_POINTS:
        raise ConfigError(f"points must be an integer in 1..{MAX_POINTS}, got {points!r}.")
    min_channels = check_min_channels(min_channels)
    trained = load_trained(store, run_id)
    scores, learned = ranking_scores(store, trained, ranking, progress)
    key = _curve_key(trained, ranking, points, min_channels, learned)
    name = f"curve-{ranking}-p{points}-m{min_channels}"
    art = store.artifact(run_id, name)
    if art is not None and not recompute and art["meta"].get("key") == key:
        cached = read_json(art["path"])
        if cached is not None:
            cached["cached"] = True
            return cached
    started = time.perf_counter()
    targets = curve_targets(points)
    total = len(targets) + 1
    if progress:
        progress(0, total, "evaluating the unpruned model")
    base, _ = measure(trained, None)
    seen: dict[tuple, dict] = {}  # equal plans (tied scores, clamped tails) are evaluated once
    out = []
    for i, target in enumerate(targets):
        sel = select_flops(scores, target, trained.structure.macs, min_channels)
        if sel.plan not in seen:
            seen[sel.plan] = measure(trained, sel)[0]
        out.append({**seen[sel.plan], "threshold": sel.threshold, "clamped": sel.clamped,
                    "target_flops_ratio": target})
        if progress:
            progress(i + 2, total, f"threshold {sel.threshold:.4g}: {out[-1]['flops_ratio']:.1%} FLOPs, "
                                   f"val accuracy {out[-1]['accuracy']:.4f}")
    flat = np.concatenate(scores)
    curve = {
        "run_id": run_id, "ranking": ranking, "min_channels": min_channels, "split": "val",
        "definitions": DEFINITIONS, "score_min": float(flat.min()), "score_max": float(flat.max()),
        "base": base, "points": out, "seconds": round(time.perf_counter() - started, 2), "cached": False,
    }
    path = write_json(store.run_dir(run_id) / f"{name}.json", curve)
    store.put_artifact(run_id, name, "curve", str(path), {"key": key})
    return curve


def preview_at(store: RunStore, run_id: str, ranking: str = "bn", threshold: float | None = None,
               flops_ratio: float | None = None, min_channels: int = 1) -> dict:
    """One point, computed exactly (builds and evaluates the committed model); adds `base_flops`."""
    RANKINGS.get(ranking)
    threshold, flops_ratio = check_target(threshold, flops_ratio)
    min_channels = check_min_channels(min_channels)
    trained = load_trained(store, run_id)
    scores, _ = ranking_scores(store, trained, ranking)
    point, _ = measure(trained, selection_for(trained, scores, threshold, flops_ratio, min_channels))
    st = trained.structure
    point.update(ranking=ranking, run_id=run_id, base_flops=2 * st.macs(st.empty_plan()),
                 target_flops_ratio=flops_ratio, requested_threshold=requested_threshold(threshold))
    return point


def describe_ranking(store: RunStore, run_id: str, ranking: str = "bn", progress: Progress | None = None,
                     research: bool = False, **legr_params) -> dict:
    """Every group's scores under a ranking; LeGR searches first when asked to or when no search is stored."""
    cls = RANKINGS.get(ranking)
    trained = load_trained(store, run_id)
    if cls.needs_search and (research or stored_legr(store, run_id, trained) is None):
        if "alpha" not in search_legr(store, run_id, progress=progress, **legr_params):
            raise ConfigError("the LeGR search was stopped before its first candidate; nothing was stored.")
    scores, learned = ranking_scores(store, trained, ranking, progress)
    groups = [{"name": g.name, "bns": g.bns, "width": g.width, "scores": [float(v) for v in s]}
              for g, s in zip(trained.structure.groups, scores)]
    out = {"run_id": run_id, "ranking": ranking, "description": cls.describe(), "groups": groups}
    if learned is not None:
        out["legr"] = {k: v for k, v in learned.items() if k != "history"}
    return out
