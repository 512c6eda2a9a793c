"""What the pruning jobs left in the store, read back for the app: curves, LeGR searches (and what they learned),
commits."""
from __future__ import annotations

import math

from slimcore.errors import SlimcoreError
from slimcore.pruning.committing import prune_report
from slimcore.pruning.search import stored_legr
from slimcore.pruning.settings import PruneSettings
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


def commit_matches(config: dict, settings: PruneSettings) -> bool:
    """Whether a prune run recorded with `config` builds the model `settings` ask for: every setting that shapes
    the model (ranking, cut, minimum widths, per-layer rules, steps, fine-tuning and its distillation) equal, floats
    to rounding. Where it ran, where it wrote and how often its latency was timed do not count."""
    try:
        made = PruneSettings.from_dict(config)
    except (SlimcoreError, TypeError):
        return False

    def shape(s: PruneSettings) -> dict:
        values = s.to_dict()
        for where in ("out_dir", "latency_repeats"):
            values.pop(where, None)
        values["finetune"] = {k: v for k, v in values["finetune"].items() if k != "device"}
        return values

    def same(a, b) -> bool:
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, float) and isinstance(b, float):
            return math.isclose(a, b, rel_tol=1e-9)
        return a == b

    return same(shape(made), shape(settings))


def has_legr(store: RunStore, run_id: str) -> bool:
    """Whether a LeGR search of the run's current checkpoint is stored."""
    return stored_legr(store, run_id) is not None



def legr_learned(store: RunStore, run_id: str) -> dict | None:
    """What the run's stored LeGR search learned, for the Prune page: per group α and κ, the search's fitness
    against the identity map's, and whether its best candidate is the identity map itself (then the legr
    ranking is exactly |γ|, and so is its curve) or gained nothing over it."""
    learned = stored_legr(store, run_id)
    if not learned or "alpha" not in learned:
        return None
    alpha, kappa = learned["alpha"], learned["kappa"]
    fitness, identity_fitness = learned.get("fitness"), learned.get("identity_fitness")
    return {
        "groups": [{"group": g, "alpha": a, "kappa": k} for g, a, k in zip(learned["groups"], alpha, kappa)],
        "identity": all(a == 1.0 for a in alpha) and all(k == 0.0 for k in kappa),
        "no_gain": fitness is not None and identity_fitness is not None and fitness <= identity_fitness,
        "fitness": fitness, "identity_fitness": identity_fitness,
        "scored_on": learned.get("scored_on", "val"), "evaluated": learned.get("evaluated"),
    }


def fine_tuned_points(store: RunStore, run_id: str, ranking: str | None = None) -> list[dict]:
    """The finished, fine-tuned commits of training run `run_id` (of `ranking`, or all), by FLOPs share, for the
    trade-off plot: each one's val accuracy right after its (last) cut, where the curve has it, and after
    fine-tuning, beside its test accuracy and how it was recovered (cuts, distillation, epochs)."""
    out = []
    for run in store.list_runs(kind="prune", parent=run_id):
        report = prune_report(store, run["id"]) if run["status"] == "finished" else None
        ft = (report or {}).get("finetune") or {}
        if not ft.get("epochs_done") or (ranking is not None and report.get("ranking") != ranking):
            continue
        out.append({"prune_id": run["id"], "ranking": report["ranking"], "flops_ratio": report["flops_ratio"],
                    "params": report["params"], "accuracy_before": report["before_finetune"]["val_accuracy"],
                    "accuracy_after": report["val_accuracy"], "test_accuracy": report["accuracy"],
                    "steps": len(report.get("steps") or ()) or 1, "distill": ft.get("distill") is not None,
                    "epochs": report.get("finetune_epochs_done", ft["epochs_done"])})
    return sorted(out, key=lambda p: (p["flops_ratio"], p["prune_id"]))
