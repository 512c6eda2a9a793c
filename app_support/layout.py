"""What every page starts with: page config and a sidebar footer naming the store and the device."""
from __future__ import annotations

import streamlit as st

from app_support.store import device_summary, get_store


def page_setup(title: str) -> None:
    """Wide layout, the tab title, and the sidebar footer."""
    st.set_page_config(page_title=f"{title} · slimcore", layout="wide")
    with st.sidebar:
        st.caption(f"Run store: `{get_store().root}`")
        st.caption(device_summary())
