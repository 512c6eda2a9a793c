"""The Prune page's "Which layers are sensitive?" section: starts and follows the sensitivity scan (a job), then
draws its heatmap with the share the current threshold removes from each group over it."""
from __future__ import annotations

import streamlit as st

from app_support.errors import show_error
from app_support.jobs import follow_job
from slimcore import jobs
from slimcore.errors import SlimcoreError
from slimcore.pruning.math.rules import LayerRules
from slimcore.pruning.sensitivity import accuracy_drops, removed_shares, stored_sensitivity
from slimcore.pruning.settings import SensitivitySettings
from slimcore.viz.sensitivity import sensitivity_heatmap

TITLE = "Which layers are sensitive?"


def show_sensitivity(store, run_id: str, ranking: str, threshold: float, min_channels: int = 1,
                     rules: LayerRules | None = None) -> dict | None:
    """The section; returns the stored scan once there is one (None while it is missing or running)."""
    settings = SensitivitySettings(ranking=ranking)
    scan = stored_sensitivity(store, run_id, settings)
    job = None if scan else jobs.latest(store, "sensitivity", run_id, where=lambda c: c.get("ranking") == ranking)
    with st.expander(TITLE, expanded=scan is not None or bool(job and jobs.is_active(job))):
        if scan is None:
            _start_or_follow(store, run_id, settings, job)
            return None
        removed = removed_shares(scan, threshold, min_channels, rules)
        st.caption("Each row is one channel group cut alone (every other group kept whole) to each share of its "
                   f"channels, by the {ranking} ranking, and evaluated on val: red costs accuracy, blue does not. "
                   "The ◆ in each row is the share the current threshold removes from that group (under the "
                   "per-layer rules): a ◆ deep in a red row is a sensitive layer the global threshold cuts into; "
                   "lock it or cap its removed share in Per-layer rules.")
        st.plotly_chart(sensitivity_heatmap(accuracy_drops(scan), removed), key="p:sensitivity:chart",
                        config={"displayModeBar": False})
        st.caption(f"{len(scan['groups'])} groups × {len(scan['shares'])} shares, {scan['evaluations']} evaluations "
                   f"(`slimcore sensitivity {run_id} --ranking {ranking}`).")
    return scan


def _start_or_follow(store, run_id: str, settings: SensitivitySettings, job: dict | None) -> None:
    if job and jobs.is_active(job):
        follow_job(job["id"], "Scanning each group's sensitivity", stop_help="stops without storing a partial scan")
        return
    st.caption("Cuts each channel group alone to 10 %, 20 %, … 90 % of its channels removed and evaluates each "
               "model on val: a heatmap of which layers lose accuracy when cut, with the current threshold's cut "
               "drawn over it. It runs as a job (about nine evaluations per group) and goes on if you leave.")
    if job and job["status"] in ("failed", "interrupted", "stopped"):
        (st.warning if job["status"] == "stopped" else st.error)(
            f"The last sensitivity scan {job['status']}" + (f": {job['message']}" if job["message"] else "."))
    if st.button("Scan the layers' sensitivity", key="p:sensitivity"):
        try:
            jobs.start(store, "sensitivity", settings, parent=run_id)
        except SlimcoreError as e:
            show_error(e, "start the sensitivity scan")
        else:
            st.rerun()
