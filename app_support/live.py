"""The session's feed of the run a page follows (kept in st.session_state between reruns), and the one γ snapshot
each redraw of it shows."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from slimcore.jobs.follow import RunFeed
from slimcore.store.runs import RunStore
from slimcore.training.snapshots import sparsity_figures


def run_feed(store: RunStore, run: dict) -> RunFeed:
    """The session's feed for `run`; a new job process (a resume) starts a fresh one."""
    key = f"feed:{run['id']}"
    feed = st.session_state.get(key)
    if feed is None or feed.pid != run["pid"]:
        feed = RunFeed(run["id"], run["pid"])
        st.session_state[key] = feed
    feed.update(store, run)
    return feed


@dataclass(frozen=True)
class GammaNow:
    """The γ snapshot one redraw shows. Its number tiles and its histogram both read this object, never the run's
    summary (written at epoch ends only, so mid-epoch it lags the newest snapshot)."""

    epoch: float
    gamma: np.ndarray  # every BN channel's γ, in the order of the run's layers
    figures: dict[str, float]  # sparsity_figures(gamma): 'sparsity@0', 'sparsity@0.01', …

    def share(self, name: str) -> str:
        """A figure as a tile's text ('13.1%'), or '–' when there is none."""
        return f"{self.figures[name]:.1%}" if name in self.figures else "–"


def gamma_now(feed: RunFeed) -> GammaNow | None:
    """The feed's newest snapshot as one object, or None before the job has written one."""
    if not feed.snapshots:
        return None
    latest = feed.snapshots[-1]
    gamma = np.asarray(latest["gamma"], dtype=np.float64)
    return GammaNow(float(latest["epoch"]), gamma, sparsity_figures(gamma))
