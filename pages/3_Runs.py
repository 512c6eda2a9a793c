"""Runs: the runs that hold a model and the jobs on them; overlay the γ distributions and trade-off curves of the
ones you pick (a button computes the curves that are missing)."""
import pandas as pd
import streamlit as st

from app_support.errors import user_errors
from app_support.jobs import progress_text
from app_support.layout import page_setup
from app_support.runs import legend_label
from app_support.prune_path import recovery_text, show_path
from app_support.runs_table import iterative_commits, job_rows, model_rows
from app_support.store import get_store
from app_support.upload import upload_evaluator
from slimcore import jobs
from slimcore.pruning.committing import prune_report
from slimcore.pruning.results import cached_curves
from slimcore.pruning.settings import CurveSettings
from slimcore.viz import gamma_overlay, tradeoff_overlay

page_setup("Runs")
store = get_store()
st.title("Runs")

PERCENT = st.column_config.NumberColumn(format="percent", width="small")
MAX_PATHS = 10  # the newest iterative commits whose path is shown
DONE = st.column_config.ProgressColumn(format="percent", width="small", min_value=0.0, max_value=1.0,
                                       help="progress of the run's job")


def table(rows: list[dict], numeric: list[str], columns: dict) -> None:
    frame = pd.DataFrame(rows)
    if not any(r["status"] in ("starting", "running") for r in rows):
        frame = frame.drop(columns=["done"])  # progress only says something while a job runs
        numeric = [c for c in numeric if c != "done"]
    frame[numeric] = frame[numeric].apply(pd.to_numeric, errors="coerce")
    st.dataframe(frame, hide_index=True, width="stretch", column_config={
        "run": st.column_config.TextColumn(width="medium"), "done": DONE,
        "message": st.column_config.TextColumn(width="large"), **columns})


runs = jobs.runs(store)
if not runs:
    st.info("No runs yet: start one on the Train page.")
else:
    by_id = {r["id"]: r for r in runs}
    rows, warnings = model_rows(runs)
    st.subheader("Trained models")
    if rows:
        table(rows, ["done", "λ", "epochs", "val accuracy", "test accuracy", "|γ|<0.01", "γ = 0"], {
            "λ": st.column_config.NumberColumn(format="%.1e", width="small"),
            "epochs": st.column_config.NumberColumn(width="small", help="0: imported, not trained here"),
            "val accuracy": PERCENT, "test accuracy": PERCENT, "|γ|<0.01": PERCENT, "γ = 0": PERCENT,
            "health": st.column_config.TextColumn(width="small", help="collapsed, exploded or nothing sparsified: "
                                                                      "see the warnings below the table"),
        })
    for run_id, finding in warnings:
        st.warning(f"`{run_id}` **{finding['problem']}**: {finding['message']}")
    commits, other_jobs = job_rows(runs, commits=True), job_rows(runs, commits=False)
    if commits:
        st.subheader("Commits")
        table(commits, ["done", "FLOPs", "test accuracy", "cuts", "fine-tune epochs"], {
            "FLOPs": st.column_config.NumberColumn(format="percent", width="small", help="share of the unpruned FLOPs"),
            "test accuracy": PERCENT, "cut": st.column_config.TextColumn(width="medium", help="the threshold or target"),
            "cuts": st.column_config.NumberColumn(width="small", help="1: one cut; K: K cuts toward the FLOPs target, "
                                                                      "each fine-tuned before the next is ranked"),
            "fine-tune epochs": st.column_config.NumberColumn(width="small", help="after each cut"),
            "distilled": st.column_config.TextColumn(width="small", help="fine-tuned as a student of the unpruned "
                                                                         "model, with temperature T and weight W"),
        })
        for r in iterative_commits(runs)[:MAX_PATHS]:
            done, parent = r["summary"]["steps"], by_id.get(r["parent"])
            report = prune_report(store, r["id"]) if not jobs.is_active(r) else None
            with st.expander(f"Path of `{r['id']}` on {legend_label(parent) if parent else r['parent']}: "
                             f"{len(done)} of {r['config']['steps']} cuts · {r['status']}"):
                finetune = r["config"].get("finetune") or {}
                st.caption(f"Fine-tuning: {recovery_text(finetune, r['config']['steps'])}.")
                show_path(done, key=f"r:path:{r['id']}",
                          base_accuracy=((report or {}).get("base") or {}).get("val_accuracy"))
    if other_jobs:
        st.subheader("Searches and curves")
        table(other_jobs, ["done"], {"cut": st.column_config.TextColumn(width="medium", help="what it computed")})

    with_gamma = [r for r in runs if jobs.holds_model(r) and r["layers"]]
    ids = [r["id"] for r in with_gamma]
    default = [r["id"] for r in with_gamma if r["status"] == "finished"][:3] or ids[:3]
    st.subheader("Compare")
    chosen = st.multiselect("Compare runs", ids, default=default, key="r:chosen", format_func=lambda i: legend_label(by_id[i]))
    if chosen:
        names = {run_id: legend_label(by_id[run_id]) for run_id in chosen}
        finals = {}
        for run_id in chosen:
            snaps = store.snapshots(run_id, epoch_end_only=True) or store.snapshots(run_id)[-1:]
            if snaps:
                finals[names[run_id]] = snaps[-1]["gamma"]
        left, right = st.columns(2)
        left.plotly_chart(gamma_overlay(finals), key="r:gamma", width="stretch")
        curves = {key.replace(run_id, names[run_id], 1): value for run_id in chosen
                  for key, value in cached_curves(store, [run_id]).items()}
        missing = [run_id for run_id in chosen if not cached_curves(store, [run_id])
                   and by_id[run_id]["status"] == "finished"]
        running = [r for r in jobs.runs(store, kind="curve") if r["parent"] in chosen and jobs.is_active(r)]
        with right:
            if curves:
                st.plotly_chart(tradeoff_overlay(curves), key="r:curves", width="stretch")
            elif not running:
                st.info("No trade-off curve computed for these runs yet.")
            if missing and not running and st.button(
                    f"Compute the missing curve{'s' if len(missing) > 1 else ''} ({len(missing)}, |γ| ranking)",
                    key="r:compute", help="one curve job per run, in the background; the chart fills in as each ends"):
                with user_errors("start the curve jobs"):
                    for run_id in missing:
                        jobs.start(store, "curve", CurveSettings(ranking="bn"), parent=run_id)
                    st.rerun()

            @st.fragment(run_every=1.0 if running else None)
            def curve_jobs(ids: list[str]) -> None:
                active = [jobs.view(store, i) for i in ids]
                if any(not jobs.is_active(r) for r in active):
                    st.rerun()
                for r in active:
                    share, text = progress_text(r, f"curve of {legend_label(by_id[r['parent']])}")
                    st.progress(share, text=text)

            if running:
                curve_jobs([r["id"] for r in running])

st.subheader("Evaluate a model file")
upload_evaluator("r:upload")
