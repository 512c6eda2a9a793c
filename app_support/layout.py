"""What every page starts with: page config, the sidebar links to the pages, and the store and device in use."""
from __future__ import annotations

import streamlit as st

from app_support.store import device_summary, get_store

PAGES = (
    ("app.py", "Home"),
    ("pages/1_Train.py", "1 · Train"),
    ("pages/2_Prune.py", "2 · Prune"),
    ("pages/3_Runs.py", "3 · Runs"),
    ("pages/4_Learn.py", "4 · Learn"),
)


def page_setup(title: str) -> None:
    """Wide layout, the tab title, and the sidebar (links to every page, then store and device)."""
    st.set_page_config(page_title=f"{title} · slimcore", layout="wide")
    with st.sidebar:
        st.markdown("**slimcore studio**")
        for page, label in PAGES:
            st.page_link(page, label=label)
        st.divider()
        st.caption(f"Run store: `{get_store().root}`")
        st.caption(device_summary())
