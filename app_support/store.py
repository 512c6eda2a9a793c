"""One RunStore per runs folder for the whole server (opening it per rerun would redo the schema check)."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from slimcore.store.runs import RunStore, default_runs_dir


@st.cache_resource(show_spinner=False)
def _open_store(root: str) -> RunStore:
    return RunStore(root)


def get_store() -> RunStore:
    """The store under $SLIMCORE_RUNS_DIR (read on every call, so tests can point it at a tmp folder)."""
    return _open_store(str(Path(default_runs_dir()).resolve()))


@st.cache_resource(show_spinner=False)
def devices() -> list[str]:
    """The devices this machine can train on, best first (cached: the first call imports torch)."""
    from slimcore.devices import available_devices

    return available_devices()


@st.cache_resource(show_spinner=False)
def device_summary() -> str:
    """One line for the user: which accelerator training will use."""
    from slimcore.devices import device_summary as summary

    return summary()
