"""The accuracy/FLOPs trade-off curve of a run (computed once, then served from the store) and exact single points.

Every accuracy is that of exactly the model `commit` builds (the cut model itself, evaluated on the val split).
"""
from __future__ import annotations

import hashlib
import json
import time
from typing import Callable

import numpy as np

from slimcore.analysis.explain import describe_groups
from slimcore.errors import Stopped
from slimcore.pruning.math.plan import (check_min_channels, check_target, curve_targets, requested_threshold, select,
                                        select_flops)
from slimcore.pruning.math.rankings import RANKINGS
from slimcore.pruning.math.rules import LayerRules, limits_for
from slimcore.pruning.measure import DEFINITIONS, measure
from slimcore.pruning.scoring import ranking_scores, selection_for
from slimcore.pruning.search import checkpoint_key, stored_legr
from slimcore.pruning.settings import CurveSettings
from slimcore.pruning.trained import load_trained
from slimcore.store.files import read_json, write_json
from slimcore.store.runs import RunStore

Progress = Callable[[int, int, str], None]
# Bumped when what a point measures changes, so that curves stored by an older engine are computed again
# (2: exact removal, output_change and the channel groups).
CURVE_FORMAT = 3  # 3: exact ties in scores broken (slimcore.pruning.math.ties)


def artifact_name(settings: CurveSettings) -> str:
    """The stored curve's name; a curve under per-layer rules is another curve, named after a digest of its rules."""
    name = f"curve-{settings.ranking}-p{settings.points}-m{settings.min_channels}"
    if settings.rules.empty:
        return name
    text = json.dumps(settings.rules.to_dict(), sort_keys=True)
    return f"{name}-r{hashlib.sha1(text.encode()).hexdigest()[:10]}"


def curve_key(store: RunStore, run_id: str, settings: CurveSettings) -> dict:
    """What a stored curve depends on: its settings, the run's checkpoint and (LeGR) the search it ranked with."""
    learned = stored_legr(store, run_id) if RANKINGS.get(settings.ranking).needs_search else None
    return {"format": CURVE_FORMAT, "ranking": settings.ranking, "points": settings.points,
            "min_channels": settings.min_channels,
            **({} if settings.rules.empty else {"rules": settings.rules.to_dict()}),
            **(checkpoint_key(store, run_id) or {}), "search_id": (learned or {}).get("search_id")}


def stored_curve(store: RunStore, run_id: str, settings: CurveSettings) -> dict | None:
    """The stored curve for these settings, if it was computed from the run's current checkpoint (and search);
    reads store rows and one JSON file, no model."""
    art = store.artifact(run_id, artifact_name(settings))
    if art is None or art["meta"].get("key") != curve_key(store, run_id, settings):
        return None
    cached = read_json(art["path"])
    if cached is None:
        return None
    cached["cached"] = True
    return cached


def get_curve(store: RunStore, run_id: str, ranking: str = "bn", points: int = 50, progress: Progress | None = None,
              recompute: bool = False, min_channels: int = 1, should_stop: Callable[[], bool] | None = None,
              rules: LayerRules | None = None) -> dict:
    """The trade-off curve {"base", "points": [...], "channel_scores"} of a run under a ranking, computed once and
    then read back.

    Point i is the lowest threshold keeping at most 1 − i/points of the FLOPs (evenly spaced along the FLOPs axis;
    the last is the smallest model the minimum widths allow); its accuracy is the committed model's on val. Every
    point respects the per-layer `rules` (locked groups, caps, minimum widths, rounded widths).
    `legr` without a stored search runs one first (reported through `progress`). A stop ends it without storing.
    """
    settings = CurveSettings(ranking=ranking, points=points, min_channels=min_channels, recompute=recompute,
                             rules=rules or LayerRules())
    if not recompute:
        cached = stored_curve(store, run_id, settings)
        if cached is not None:
            return cached
    stop = should_stop or (lambda: False)
    trained = load_trained(store, run_id)
    limits = limits_for(settings.rules, trained.structure.groups)
    scores, learned = ranking_scores(store, trained, ranking, progress, should_stop)
    started = time.perf_counter()
    targets = curve_targets(points)
    landmarks = RANKINGS.get(ranking)().landmarks(learned)
    total = len(targets) + len(landmarks) + 1  # the unpruned model first
    if progress:
        progress(0, total, "evaluating the unpruned model")
    base, _ = measure(trained, None)
    # Each point: how its selection is made, and what it adds to the point. The landmarks (e.g. exactly the
    # filters TPP chose) come after the evenly spaced FLOPs targets.
    choices = [(lambda t=t: select_flops(scores, t, trained.structure.macs, min_channels, limits), {"target_flops_ratio": t})
               for t in targets]
    choices += [(lambda t=t: select(scores, t, min_channels, limits), {"target_flops_ratio": None, "landmark": True})
                for t in landmarks]
    seen: dict[tuple, dict] = {}  # equal plans (tied scores, clamped tails) are evaluated once
    out = []
    for i, (choose, extra) in enumerate(choices):
        if stop():
            raise Stopped(f"the curve was stopped after {i} of {points} points; nothing was stored.")
        sel = choose()
        if sel.plan not in seen:
            seen[sel.plan] = measure(trained, sel)[0]
        out.append({**seen[sel.plan], "threshold": sel.threshold, "clamped": sel.clamped, **extra})
        if progress:
            progress(i + 2, total, f"threshold {sel.threshold:.4g}: {out[-1]['flops_ratio']:.1%} FLOPs, "
                                   f"val accuracy {out[-1]['accuracy']:.4f}")
    flat = np.concatenate(scores)
    curve = {
        "run_id": run_id, "ranking": ranking, "min_channels": min_channels, "rules": settings.rules.to_dict(),
        "split": "val",
        "definitions": DEFINITIONS, "score_min": float(flat.min()), "score_max": float(flat.max()),
        "base": base, "points": out, "channel_scores": [float(v) for v in flat],
        "groups": describe_groups(trained.model, trained.structure),
        "seconds": round(time.perf_counter() - started, 2), "cached": False,
    }
    name = artifact_name(settings)
    path = write_json(store.run_dir(run_id) / f"{name}.json", curve)
    store.put_artifact(run_id, name, "curve", str(path), {"key": curve_key(store, run_id, settings)})
    return curve


def preview_at(store: RunStore, run_id: str, ranking: str = "bn", threshold: float | None = None,
               flops_ratio: float | None = None, min_channels: int = 1, rules: LayerRules | None = None) -> dict:
    """One point, computed exactly (builds and evaluates the committed model) under the per-layer `rules`; adds
    `base_flops` and the `rules`."""
    RANKINGS.get(ranking)
    threshold, flops_ratio = check_target(threshold, flops_ratio)
    min_channels = check_min_channels(min_channels)
    trained = load_trained(store, run_id)
    scores, _ = ranking_scores(store, trained, ranking)
    rules = rules or LayerRules()
    point, _ = measure(trained, selection_for(trained, scores, threshold, flops_ratio, min_channels, rules))
    st = trained.structure
    point.update(ranking=ranking, run_id=run_id, base_flops=2 * st.macs(st.empty_plan()),
                 target_flops_ratio=flops_ratio, requested_threshold=requested_threshold(threshold),
                 rules=rules.to_dict())
    return point
