"""The Runs page's two tables: the runs that hold a model (trained here or imported) and the jobs on them, each
with only the columns that mean something for it, so no cell reads "None"."""
from __future__ import annotations

from slimcore import jobs
from slimcore.models.external import short_name
from slimcore.pruning.settings import FineTuneSettings
from slimcore.training.health import assess


def model_rows(runs: list[dict]) -> tuple[list[dict], list[tuple[str, dict]]]:
    """(rows, [(run id, health finding)]) of the training and import runs."""
    rows, warnings = [], []
    for r in runs:
        if not jobs.holds_model(r):
            continue
        cfg, s = r["config"], r["summary"]
        health = assess(s, cfg, r["status"])
        warnings += [(r["id"], finding) for finding in health]
        rows.append({
            "run": r["id"], "kind": r["kind"], "status": r["status"],
            "health": ", ".join(f["problem"] for f in health) or "ok", "done": r["progress"],
            "model": short_name(cfg.get("model", "")), "data": cfg.get("dataset"),
            "penalty": cfg.get("penalty"), "λ": cfg.get("lam"), "epochs": cfg.get("epochs"),
            "val accuracy": s.get("val_accuracy"), "test accuracy": s.get("test_accuracy"),
            "|γ|<0.01": s.get("sparsity@0.01"), "γ = 0": s.get("sparsity@0"),
            "message": r["message"] or ("; ".join(s.get("notes", [])) if r["kind"] == "import" else ""),
        })
    return rows, warnings


def _cut(cfg: dict) -> str:
    """How a job chose its channels, in words: "|γ| < 0.031" or "≤ 50 % FLOPs"."""
    if cfg.get("threshold") is not None:
        return f"score < {cfg['threshold']:.3g}"
    if cfg.get("flops_ratio") is not None:
        return f"≤ {cfg['flops_ratio']:.0%} FLOPs"
    if cfg.get("points") is not None:
        return f"{cfg['points']} thresholds"
    return ""


def recovery_columns(cfg: dict) -> dict:
    """How a commit recovers accuracy after the cut: its cuts, fine-tuning epochs (after each cut) and whether
    (with which T and W) it distils from the unpruned model."""
    finetune = cfg.get("finetune") or {}
    t = float(finetune.get("distill_temperature", FineTuneSettings.distill_temperature))
    w = float(finetune.get("distill_weight", FineTuneSettings.distill_weight))
    return {"cuts": int(cfg.get("steps") or 1), "fine-tune epochs": finetune.get("epochs"),
            "distilled": f"T {t:g} · W {w:g}" if finetune.get("distill") else "no"}


def iterative_commits(runs: list[dict]) -> list[dict]:
    """The commits (newest first) that cut in several steps and have recorded at least one of them."""
    return [r for r in runs if r["kind"] == "prune" and int(r["config"].get("steps") or 1) > 1
            and r["summary"].get("steps")]


def job_rows(runs: list[dict], commits: bool) -> list[dict]:
    """Rows of the jobs that work on a run: the commits (prune: what they cut and gave) when `commits`, else the
    searches and curves (ranking, what they computed)."""
    from app_support.runs import legend_label

    by_id = {r["id"]: r for r in runs}
    rows = []
    for r in runs:
        if jobs.holds_model(r) or (r["kind"] == "prune") != commits:
            continue
        cfg, s = r["config"], r["summary"]
        parent = by_id.get(r["parent"])
        row = {"run": r["id"], "kind": r["kind"], "status": r["status"], "done": r["progress"],
               "on run": legend_label(parent) if parent else r["parent"],
               "ranking": cfg.get("ranking", "legr" if r["kind"] == "search" else ""), "cut": _cut(cfg)}
        if commits:
            row.update({"FLOPs": s.get("flops_ratio"), "test accuracy": s.get("test_accuracy"),
                        **recovery_columns(cfg)})
        row["message"] = r["progress_message"] if jobs.is_active(r) else r["message"]
        rows.append(row)
    return rows
