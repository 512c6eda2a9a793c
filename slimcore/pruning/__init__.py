"""Global channel ranking, instant accuracy/FLOPs preview and real pruning of trained runs.

Public API: RANKINGS, get_curve, preview_at, commit, search_legr, load_pruned. Names resolve on first use
(PEP 562) so that `import slimcore`, which re-exports load_pruned, does not load torch and Torch-Pruning.
"""
from __future__ import annotations

import importlib

from slimcore.pruning.loader import load_pruned

_EXPORTS = {
    "RANKINGS": "slimcore.pruning.rankings",
    "get_curve": "slimcore.pruning.preview",
    "preview_at": "slimcore.pruning.preview",
    "commit": "slimcore.pruning.commit",
    "search_legr": "slimcore.pruning.legr",
    "LEGR_DEFAULTS": "slimcore.pruning.legr",
    "read_pruned": "slimcore.pruning.loader",
}

__all__ = ["LEGR_DEFAULTS", "RANKINGS", "commit", "get_curve", "load_pruned", "preview_at", "read_pruned",
           "search_legr"]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'slimcore.pruning' has no attribute {name!r}")
