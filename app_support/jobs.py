"""Following a job from a page: a fragment that redraws its progress every second and offers Stop."""
from __future__ import annotations

import streamlit as st

from app_support.errors import user_errors
from app_support.runs import age
from app_support.store import get_store
from slimcore import jobs


def progress_text(run: dict, label: str) -> tuple[float, str]:
    """(share done, the bar's text) of a job: its label, what it does now, done of total."""
    done, total = float(run.get("done") or 0), float(run.get("total") or 0)
    share = min(max(done / total, 0.0), 1.0) if total else 0.0
    doing = run.get("progress_message") or run.get("message") or run["status"]
    count = f" ({done:.0f}/{total:.0f})" if total else ""
    return share, f"{label}: {doing}{count}"


def follow_job(run_id: str, label: str, stop_help: str = "") -> None:
    """Progress and a Stop button for job `run_id`, redrawn every second while it is active; when it ends the
    whole page reruns and shows its result (or its error)."""

    @st.fragment(run_every=1.0)
    def follow() -> None:
        store = get_store()
        run = jobs.view(store, run_id)
        if not jobs.is_active(run):
            st.rerun()
        share, text = progress_text(run, label)
        st.progress(share, text=text)
        c1, c2 = st.columns([1, 5], vertical_alignment="center")
        c2.caption(f"job `{run_id}` · {run['status']} · updated {age(run['heartbeat'] or run['updated'])} · "
                   "it goes on if you leave or reload this page")
        if c1.button("Stop", key=f"stop:{run_id}", help=stop_help or None):
            with user_errors("stop the job"):
                jobs.stop(store, run_id)
                st.toast("Stop requested: the job ends at its next safe point.")

    follow()
