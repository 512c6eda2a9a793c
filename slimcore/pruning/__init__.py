"""Global channel ranking, the accuracy/FLOPs preview and real pruning of trained runs (the orchestration).

The layers: `slimcore.pruning.math` (pure: plans, MACs, rankings, absorption, the cut, LeGR's evolution),
`slimcore.analysis` (model analysis: channel groups, constant uses, layer shapes), and the modules here, which
load runs, write files and run as jobs (`slimcore.jobs`).

Public API: RANKINGS, get_curve, preview_at, commit, search_legr, scan_sensitivity, load_pruned, LayerRules and the
settings classes. Names
resolve on first use (PEP 562) so that `import slimcore`, which re-exports load_pruned, does not load torch.
"""
from __future__ import annotations

import importlib

from slimcore.pruning.loader import load_pruned

_EXPORTS = {
    "RANKINGS": "slimcore.pruning.math.rankings",
    "get_curve": "slimcore.pruning.curve",
    "stored_curve": "slimcore.pruning.curve",
    "preview_at": "slimcore.pruning.curve",
    "commit": "slimcore.pruning.committing",
    "search_legr": "slimcore.pruning.search",
    "read_pruned": "slimcore.pruning.loader",
    "CurveSettings": "slimcore.pruning.settings",
    "FineTuneSettings": "slimcore.pruning.settings",
    "LegrSettings": "slimcore.pruning.settings",
    "PruneSettings": "slimcore.pruning.settings",
    "SensitivitySettings": "slimcore.pruning.settings",
    "LayerRules": "slimcore.pruning.math.rules",
    "scan_sensitivity": "slimcore.pruning.sensitivity",
    "stored_sensitivity": "slimcore.pruning.sensitivity",
}

__all__ = ["CurveSettings", "FineTuneSettings", "LayerRules", "LegrSettings", "PruneSettings", "RANKINGS",
           "SensitivitySettings", "commit", "get_curve", "load_pruned", "preview_at", "read_pruned",
           "scan_sensitivity", "search_legr", "stored_curve", "stored_sensitivity"]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'slimcore.pruning' has no attribute {name!r}")
