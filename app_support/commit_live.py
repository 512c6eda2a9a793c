"""A running commit, followed from the Prune page: its progress and Stop button, and beside them its fine-tuning's
loss and accuracy as the job records them (the prune run's metrics), with the cuts an iterative commit has done."""
from __future__ import annotations

import streamlit as st

from app_support.jobs import follow_job
from app_support.live import run_feed
from app_support.prune_path import recovery_text, show_path
from app_support.store import get_store
from slimcore import jobs
from slimcore.viz.recovery import finetune_curves


def follow_commit(prune_job: dict) -> None:
    """Progress of the commit job `prune_job`, then its fine-tuning curves and cuts, redrawn every second."""
    follow_job(prune_job["id"], "Pruning, fine-tuning and exporting",
               stop_help="fine-tuning keeps its last whole epoch; the model is then measured and exported")
    config = prune_job["config"]
    ft, steps = config.get("finetune") or {}, int(config.get("steps") or 1)
    epochs = int(ft.get("epochs") or 0)
    if not epochs:
        return
    st.caption(f"Fine-tuning: {recovery_text(ft, steps)}.")

    @st.fragment(run_every=1.0)
    def live() -> None:
        store = get_store()
        run = jobs.view(store, prune_job["id"])
        if not jobs.is_active(run):
            st.rerun()  # the whole page: the card replaces this
        feed = run_feed(store, run)
        if feed.metrics.get("train_loss", {}).get("value"):
            figure = finetune_curves(feed.metrics, [epochs * k for k in range(1, steps)], epochs * steps,
                                     distilled=bool(ft.get("distill")))
            st.plotly_chart(figure, key="p:ft_live", width="stretch")
        else:
            st.caption("The fine-tuning curves appear here once the first cut is made and its fine-tuning starts.")
        done = run["summary"].get("steps") or []
        if steps > 1:
            st.markdown(f"**Cuts done: {len(done)} of {steps}**")
            if done:
                show_path(done, key="p:live_path")

    live()
