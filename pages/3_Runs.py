"""Runs: every run in a table; overlay the γ distributions and trade-off curves of the ones you pick."""
import pandas as pd
import streamlit as st

from app_support.layout import page_setup
from app_support.runs import legend_label
from app_support.store import get_store
from app_support.upload import upload_evaluator
from slimcore import jobs
from slimcore.pruning.results import cached_curves
from slimcore.training.health import assess
from slimcore.viz import gamma_overlay, tradeoff_overlay

page_setup("Runs")
store = get_store()
st.title("Runs")

runs = jobs.runs(store)
if not runs:
    st.info("No runs yet: start one on the Train page.")
else:
    by_id = {r["id"]: r for r in runs}
    rows, warnings = [], []
    for r in runs:
        cfg, s = r["config"], r["summary"]
        health = assess(s, cfg, r["status"]) if r["kind"] == "train" else []
        warnings += [(r["id"], finding) for finding in health]
        # a job on a training run (search, curve, prune) shows that run's model, data and penalty
        source = cfg if r["kind"] == "train" else (by_id.get(r["parent"]) or {}).get("config", {})
        finetune = cfg.get("finetune") or {}
        rows.append({
            "run": r["id"], "kind": r["kind"], "status": r["status"],
            "health": ", ".join(f["problem"] for f in health) or ("ok" if r["kind"] == "train" else ""),
            "done": r["progress"],
            "penalty": source.get("penalty"), "λ": source.get("lam"),
            "accuracy": s.get("test_accuracy", s.get("val_accuracy")),
            "|γ|<0.01": s.get("sparsity@0.01"), "γ = 0": s.get("sparsity@0"), "FLOPs": s.get("flops_ratio"),
            "epochs": cfg.get("epochs") if r["kind"] == "train" else finetune.get("epochs"),
            "model": source.get("model"), "data": source.get("dataset"), "parent": r["parent"],
        })
    table = pd.DataFrame(rows)
    numeric = ["done", "λ", "epochs", "accuracy", "FLOPs", "|γ|<0.01", "γ = 0"]
    table[numeric] = table[numeric].apply(pd.to_numeric, errors="coerce")
    percent = st.column_config.NumberColumn(format="percent", width="small")
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "run": st.column_config.TextColumn(width="medium"),
        "λ": st.column_config.NumberColumn(format="%.1e", width="small"),
        "epochs": st.column_config.NumberColumn(width="small", help="training epochs, or a prune's fine-tuning epochs"),
        "accuracy": st.column_config.NumberColumn(format="percent", width="small",
                                                  help="val accuracy of a training run, test accuracy of a prune"),
        "FLOPs": st.column_config.NumberColumn(format="percent", width="small", help="a prune's share of the FLOPs"),
        "|γ|<0.01": percent, "γ = 0": percent,
        "done": st.column_config.ProgressColumn(format="percent", width="small", min_value=0.0, max_value=1.0,
                                                help="progress of the run's job"),
        "health": st.column_config.TextColumn(width="small", help="collapsed, exploded or nothing sparsified: see "
                                                                  "the warnings below the table"),
    })
    for run_id, finding in warnings:
        st.warning(f"`{run_id}` **{finding['problem']}**: {finding['message']}")

    with_gamma = [r for r in runs if r["kind"] == "train" and r["layers"]]
    ids = [r["id"] for r in with_gamma]
    default = [r["id"] for r in with_gamma if r["status"] == "finished"][:3] or ids[:3]
    chosen = st.multiselect("Compare runs", ids, default=default, key="r:chosen")
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
        if curves:
            right.plotly_chart(tradeoff_overlay(curves), key="r:curves", width="stretch")
        else:
            right.info("No trade-off curve computed for these runs yet: open them on the Prune page.")
        if curves and len(curves) < len(chosen):
            right.caption("Runs not opened on the Prune page yet have no curve.")

st.subheader("Evaluate a model file")
upload_evaluator("r:upload")
