"""Runs: every run in a table; overlay the γ distributions and trade-off curves of the ones you pick."""
import pandas as pd
import streamlit as st

from app_support.layout import page_setup
from app_support.pruning_api import cached_curves
from app_support.store import get_store
from app_support.upload import upload_evaluator
from slimcore.viz import gamma_overlay, tradeoff_overlay

page_setup("Runs")
store = get_store()
st.title("Runs")

runs = store.list_runs()
if not runs:
    st.info("No runs yet: start one on the Train page.")
else:
    rows = []
    for r in runs:
        cfg, s = r["config"], r["summary"]
        rows.append({
            "run": r["id"], "kind": r["kind"], "status": r["status"],
            "created": pd.Timestamp(r["created"], unit="s").strftime("%Y-%m-%d %H:%M"),
            "model": cfg.get("model"), "data": cfg.get("dataset"), "penalty": cfg.get("penalty"),
            "λ": cfg.get("lam"), "epochs": cfg.get("epochs"),
            "accuracy": s.get("val_accuracy"), "|γ|<0.01": s.get("sparsity@0.01"), "γ = 0": s.get("sparsity@0"),
        })
    table = pd.DataFrame(rows)
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "λ": st.column_config.NumberColumn(format="%.1e"),
        "accuracy": st.column_config.NumberColumn(format="percent"),
        "|γ|<0.01": st.column_config.NumberColumn(format="percent"),
        "γ = 0": st.column_config.NumberColumn(format="percent"),
    })

    with_gamma = [r for r in runs if r["layers"]]
    ids = [r["id"] for r in with_gamma]
    default = [r["id"] for r in with_gamma if r["status"] == "finished"][:3] or ids[:3]
    chosen = st.multiselect("Compare runs", ids, default=default, key="r:chosen")
    if chosen:
        finals = {}
        for run_id in chosen:
            snaps = store.snapshots(run_id, epoch_end_only=True) or store.snapshots(run_id)[-1:]
            if snaps:
                finals[run_id] = snaps[-1]["gamma"]
        left, right = st.columns(2)
        left.plotly_chart(gamma_overlay(finals), key="r:gamma", width="stretch")
        curves = cached_curves(store, chosen)
        if curves:
            right.plotly_chart(tradeoff_overlay(curves), key="r:curves", width="stretch")
        else:
            right.info("No trade-off curve computed for these runs yet: open them on the Prune page.")

st.subheader("Evaluate a model file")
upload_evaluator("r:upload")
