"""What the pruning jobs left in the store, read back for the app: curves, LeGR searches, commits."""
from __future__ import annotations

from slimcore.pruning.committing import prune_report
from slimcore.pruning.search import stored_legr
from slimcore.store.files import read_json
from slimcore.store.runs import RunStore


def cached_curves(store: RunStore, run_ids: list[str]) -> dict[str, tuple[list, dict]]:
    """{'run · ranking': (points, base)} for every trade-off curve already stored (nothing is computed)."""
    out: dict[str, tuple[list, dict]] = {}
    for run_id in run_ids:
        for art in store.artifacts(run_id, kind="curve"):
            curve = read_json(art["path"]) if art.get("path") else None
            if curve and curve.get("points"):
                out[f"{run_id} · {curve.get('ranking', art['name'])}"] = (curve["points"], curve.get("base") or {})
    return out


def latest_commit(store: RunStore, run_id: str) -> tuple[dict, dict] | None:
    """(prune run, report) of the newest commit of training run `run_id` that exported a model (finished, or
    stopped during fine-tuning with its last whole epoch kept)."""
    for run in store.list_runs(kind="prune", parent=run_id):
        if run["status"] in ("finished", "stopped"):
            report = prune_report(store, run["id"])
            if report:
                return run, report
    return None


def has_legr(store: RunStore, run_id: str) -> bool:
    """Whether a LeGR search of the run's current checkpoint is stored."""
    return stored_legr(store, run_id) is not None

