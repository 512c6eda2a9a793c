"""Access to the pruning engine (`slimcore.pruning`) and the pruning results already kept in the store."""
from __future__ import annotations

from types import ModuleType

from slimcore.store.runs import RunStore


def pruning() -> ModuleType | None:
    """The pruning engine, or None when it cannot be imported."""
    try:
        from slimcore import pruning as module

        module.RANKINGS  # noqa: B018 - resolves the lazy export, so a broken engine counts as absent
    except (ImportError, AttributeError):
        return None
    return module


def _read_json(path: str | None):
    from slimcore.pruning.storage import read_json

    return read_json(path) if path else None


def cached_curves(store: RunStore, run_ids: list[str]) -> dict[str, tuple[list, dict]]:
    """{'run · ranking': (points, base)} for every trade-off curve already stored (nothing is computed)."""
    out: dict[str, tuple[list, dict]] = {}
    if pruning() is None:
        return out
    for run_id in run_ids:
        for art in store.artifacts(run_id, kind="curve"):
            curve = _read_json(art.get("path"))
            if curve and curve.get("points"):
                out[f"{run_id} · {curve.get('ranking', art['name'])}"] = (curve["points"], curve.get("base") or {})
    return out


def latest_commit(store: RunStore, run_id: str) -> dict | None:
    """The report of the newest finished prune of training run `run_id`, read from its report.json."""
    for run in store.list_runs(kind="prune"):
        if run["parent"] == run_id and run["status"] == "finished":
            art = store.artifact(run["id"], "report.json")
            report = _read_json(art["path"]) if art else None
            if report:
                return report
    return None


def has_legr(store: RunStore, run_id: str) -> bool:
    """Whether a LeGR search result is stored with the run."""
    return store.artifact(run_id, "legr") is not None
