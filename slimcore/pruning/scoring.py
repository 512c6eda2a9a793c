"""A trained run's channels scored under a ranking, and the plan a threshold or a FLOPs budget gives."""
from __future__ import annotations

from typing import Callable

import numpy as np

from slimcore.errors import Stopped
from slimcore.pruning.math.plan import Selection, check_scores, select, select_flops
from slimcore.pruning.math.rankings import RANKINGS, beta_sizes
from slimcore.pruning.math.ties import break_ties
from slimcore.pruning.math.rules import LayerRules, limits_for
from slimcore.pruning.search import search_legr, stored_legr
from slimcore.pruning.settings import LegrSettings
from slimcore.pruning.trained import TrainedRun, load_trained
from slimcore.store.runs import RunStore

Progress = Callable[[int, int, str], None]


def ranking_scores(store: RunStore, trained: TrainedRun, ranking: str, progress: Progress | None = None,
                   should_stop: Callable[[], bool] | None = None) -> tuple[list[np.ndarray], dict | None]:
    """(scores per group, the learned state they used); a missing LeGR search is run first with its defaults."""
    cls = RANKINGS.get(ranking)
    learned = None
    if cls.needs_search:
        learned = stored_legr(store, trained.run_id)
        if learned is None:
            learned = search_legr(store, trained.run_id, LegrSettings(), progress, should_stop)
            if "alpha" not in learned:
                raise Stopped("the LeGR search was stopped before its first candidate; nothing was stored.")
    if cls.reads_penalty:
        learned = {"penalty": trained.config.get("penalty"), "state": trained.penalty_state}
    scores = cls().scores(trained.model, trained.structure.groups, learned)
    check_scores(scores)
    # Exact ties (every γ that proximal training set to 0) in the order of their constants, so a threshold can
    # remove them a few at a time and the curve spans from 100 % down (`slimcore.pruning.math.ties`).
    return break_ties(scores, beta_sizes(trained.model, trained.structure.groups)), learned


def selection_for(trained: TrainedRun, scores: list[np.ndarray], threshold: float | None,
                  flops_ratio: float | None, min_channels: int, rules: LayerRules | None = None) -> Selection:
    """The plan for a threshold, or for the lowest threshold that meets a FLOPs ratio, under the per-layer rules."""
    limits = limits_for(rules, trained.structure.groups)
    if threshold is not None:
        return select(scores, threshold, min_channels, limits)
    return select_flops(scores, flops_ratio, trained.structure.macs, min_channels, limits)


def describe_ranking(store: RunStore, run_id: str, ranking: str = "bn", progress: Progress | None = None) -> dict:
    """Every group's scores under a ranking (LeGR's from its stored search, run first when there is none)."""
    cls = RANKINGS.get(ranking)
    trained = load_trained(store, run_id)
    scores, learned = ranking_scores(store, trained, ranking, progress)
    groups = [{"name": g.name, "bns": g.bns, "width": g.width, "scores": [float(v) for v in s]}
              for g, s in zip(trained.structure.groups, scores)]
    out = {"run_id": run_id, "ranking": ranking, "description": cls.describe(), "groups": groups}
    if learned is not None:
        out["legr"] = {k: v for k, v in learned.items() if k != "history"}
    return out
