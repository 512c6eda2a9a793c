"""Per-group sensitivity (as AIMET, NNI and Sparsify scan it): each channel group alone pruned to a series of
shares removed, by the run's ranking, cut exactly as a commit cuts it, and evaluated on val. Computed once per
(run, ranking, shares) as a job, then read back from the store like the curve.
"""
from __future__ import annotations

import hashlib
import json
import math
import time
from typing import Callable, Sequence

import numpy as np

from slimcore.errors import Stopped
from slimcore.pruning.math.plan import Selection, select
from slimcore.pruning.math.rankings import RANKINGS
from slimcore.pruning.math.rules import GroupLimits, LayerRules
from slimcore.pruning.measure import measure
from slimcore.pruning.scoring import ranking_scores
from slimcore.pruning.search import checkpoint_key, stored_legr
from slimcore.pruning.settings import SENSITIVITY_SHARES, SensitivitySettings
from slimcore.pruning.trained import load_trained
from slimcore.store.files import read_json, write_json
from slimcore.store.runs import RunStore

Progress = Callable[[int, int, str], None]
# Bumped when what a scan measures changes, so that scans stored by an older engine are computed again.
SENSITIVITY_FORMAT = 1


def artifact_name(settings: SensitivitySettings) -> str:
    """The stored scan's name: one per ranking, and per other series of shares (named after their digest)."""
    name = f"sensitivity-{settings.ranking}"
    if settings.shares == SENSITIVITY_SHARES:
        return name
    return f"{name}-s{hashlib.sha1(json.dumps(settings.shares).encode()).hexdigest()[:10]}"


def sensitivity_key(store: RunStore, run_id: str, settings: SensitivitySettings) -> dict:
    """What a stored scan depends on: its ranking and shares, the run's checkpoint and (LeGR) its search."""
    learned = stored_legr(store, run_id) if RANKINGS.get(settings.ranking).needs_search else None
    return {"format": SENSITIVITY_FORMAT, "ranking": settings.ranking, "shares": list(settings.shares),
            **(checkpoint_key(store, run_id) or {}), "search_id": (learned or {}).get("search_id")}


def stored_sensitivity(store: RunStore, run_id: str, settings: SensitivitySettings) -> dict | None:
    """The stored scan for these settings if it was made from the run's current checkpoint (and search), else None."""
    art = store.artifact(run_id, artifact_name(settings))
    if art is None or art["meta"].get("key") != sensitivity_key(store, run_id, settings):
        return None
    cached = read_json(art["path"])
    if cached is None:
        return None
    cached["cached"] = True
    return cached


def removed_count(share: float, width: int) -> int:
    """Channels a share removes from a group of `width`: at most that share (rounded down), and never the last one."""
    return max(0, min(width - 1, math.floor(share * width + 1e-9)))


def single_group_selection(scores: Sequence[np.ndarray], group: int, removed: int) -> Selection:
    """The plan that removes the `removed` lowest-scored channels of group `group` and nothing else: the global
    selection with every other group locked (so ties are broken exactly as `select` breaks them)."""
    widths = [len(s) for s in scores]
    min_kept = tuple(w - removed if i == group else w for i, w in enumerate(widths))
    return select(scores, math.inf, 1, GroupLimits(min_kept))


def scan_sensitivity(store: RunStore, run_id: str, settings: SensitivitySettings, progress: Progress | None = None,
                     should_stop: Callable[[], bool] | None = None) -> dict:
    """The scan {"groups": [{"name", "bns", "width", "points": [{"share", "removed", "accuracy", "flops_ratio"}]}],
    "base_accuracy", ...} of a run, stored with it; a stored scan is read back unless `settings.recompute`.

    A stop ends it without storing anything. Equal cuts (small groups, where two shares remove as many channels)
    are evaluated once; a share that removes no channel is the unpruned model.
    """
    if not settings.recompute:
        cached = stored_sensitivity(store, run_id, settings)
        if cached is not None:
            return cached
    stop = should_stop or (lambda: False)
    trained = load_trained(store, run_id)
    scores, _ = ranking_scores(store, trained, settings.ranking, progress, should_stop)
    started = time.perf_counter()
    groups = trained.structure.groups
    cuts = [sorted({removed_count(s, g.width) for s in settings.shares} - {0}) for g in groups]
    total = 1 + sum(len(c) for c in cuts)
    if progress:
        progress(0, total, "evaluating the unpruned model")
    base, _ = measure(trained, None)
    done = 1
    if progress:
        progress(done, total, f"unpruned: val accuracy {base['accuracy']:.4f}")
    out = []
    for i, group in enumerate(groups):
        measured = {0: base}
        for removed in cuts[i]:
            if stop():
                raise Stopped(f"the sensitivity scan was stopped after {done - 1} of {total - 1} cuts; nothing was "
                              "stored.")
            measured[removed] = measure(trained, single_group_selection(scores, i, removed))[0]
            done += 1
            if progress:
                progress(done, total, f"{group.name}: {removed} of {group.width} channels removed, val accuracy "
                                      f"{measured[removed]['accuracy']:.4f}")
        points = []
        for share in settings.shares:
            point = measured[removed_count(share, group.width)]
            points.append({"share": share, "removed": removed_count(share, group.width),
                           "accuracy": point["accuracy"], "flops_ratio": point["flops_ratio"]})
        out.append({"name": group.name, "bns": group.bns, "width": group.width, "points": points,
                    "scores": [float(v) for v in scores[i]]})
    result = {"run_id": run_id, "ranking": settings.ranking, "shares": list(settings.shares), "split": "val",
              "groups": out, "base_accuracy": base["accuracy"], "base_flops": base["flops"],
              "evaluations": total, "seconds": round(time.perf_counter() - started, 2), "cached": False}
    name = artifact_name(settings)
    path = write_json(store.run_dir(run_id) / f"{name}.json", result)
    store.put_artifact(run_id, name, "sensitivity", str(path), {"key": sensitivity_key(store, run_id, settings)})
    return result


def accuracy_drops(scan: dict) -> dict:
    """The heatmap's data: {"groups": names, "shares": [...], "drops": [[unpruned − pruned val accuracy per share]
    per group]} (positive = worse)."""
    base = scan["base_accuracy"]
    return {"groups": [g["name"] for g in scan["groups"]], "shares": list(scan["shares"]),
            "drops": [[base - p["accuracy"] for p in g["points"]] for g in scan["groups"]]}


def removed_shares(scan: dict, threshold: float, min_channels: int = 1, rules: LayerRules | None = None) -> list[float]:
    """Each group's share removed by the global `threshold` (under the per-layer `rules`), from the scan's stored
    scores: the choice the preview makes, to draw over the heatmap."""
    groups = scan["groups"]
    scores = [np.asarray(g["scores"], dtype=np.float64) for g in groups]
    limits = None if rules is None or rules.empty else rules.resolve([[g["name"], *g["bns"]] for g in groups],
                                                                     [g["width"] for g in groups])
    plan = select(scores, threshold, min_channels, limits).plan
    return [len(r) / g["width"] for r, g in zip(plan, groups)]

