"""The session's feed of the run a page follows (kept in st.session_state between reruns)."""
from __future__ import annotations

import streamlit as st

from slimcore.jobs.follow import RunFeed
from slimcore.store.runs import RunStore


def run_feed(store: RunStore, run: dict) -> RunFeed:
    """The session's feed for `run`; a new job process (a resume) starts a fresh one."""
    key = f"feed:{run['id']}"
    feed = st.session_state.get(key)
    if feed is None or feed.pid != run["pid"]:
        feed = RunFeed(run["id"], run["pid"])
        st.session_state[key] = feed
    feed.update(store, run)
    return feed
