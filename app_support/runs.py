"""Picking a run: the Train page's current run lives in the URL (?run=…), so a reload re-attaches to it."""
from __future__ import annotations

import time
from typing import Sequence

import streamlit as st

from slimcore.errors import StoreError
from slimcore.store.runs import RunStore


def run_label(run: dict) -> str:
    """'20250101-120000-slimnet-tl1-ab12 · mnist5k, λ=0.0001': only what never changes.

    A select box's value travels as its label, so a label that changed between reruns (a status going from
    running to finished) would no longer map back to its run.
    """
    cfg = run.get("config") or {}
    details = ", ".join(x for x in (cfg.get("dataset"), f"λ={cfg['lam']:g}" if "lam" in cfg else None) if x)
    return f"{run['id']} · {details}" if details else run["id"]


def legend_label(run: dict) -> str:
    """'slimnet · tl1 λ=0.01 · mnist5k · 5ea1': what a reader of a legend tells runs apart by, and the end of the
    run id to find it in the table."""
    cfg = run.get("config") or {}
    lam = f" λ={cfg['lam']:g}" if cfg.get("lam") is not None else ""
    parts = [cfg.get("model"), f"{cfg.get('penalty')}{lam}" if cfg.get("penalty") else None, cfg.get("dataset"),
             run["id"].rsplit("-", 1)[-1]]
    return " · ".join(str(p) for p in parts if p)


def url_run(store: RunStore) -> str | None:
    """The run named by ?run= when it exists in the store."""
    run_id = st.query_params.get("run")
    if not run_id:
        return None
    try:
        return run_id if store.exists(run_id) else None
    except StoreError:
        return None


def set_url_run(run_id: str | None) -> None:
    if run_id:
        st.query_params["run"] = run_id
    elif "run" in st.query_params:
        del st.query_params["run"]


def pick_run(runs: Sequence[dict], key: str, default: str | None, label: str = "Run",
             in_url: bool = False, container=None) -> str | None:
    """A select box over `runs` (newest first) preselecting `default`; with in_url its choice goes to ?run=."""
    ids = [r["id"] for r in runs]
    if not ids:
        return None
    labels = {r["id"]: run_label(r) for r in runs}
    if default not in ids:
        default = ids[0]
    # The widget's own state resets on page switches: seed it from `default` unless the user just chose.
    if st.session_state.get(key) not in ids or st.session_state.get(f"{key}__seen") != default:
        st.session_state[key] = default
    st.session_state[f"{key}__seen"] = default

    def changed() -> None:
        st.session_state[f"{key}__seen"] = st.session_state[key]
        if in_url:
            set_url_run(st.session_state[key])

    return (container or st).selectbox(label, ids, key=key, format_func=labels.get, on_change=changed)


def age(timestamp: float | None) -> str:
    """'3 min ago' style text for a store timestamp."""
    if not timestamp:
        return ""
    s = max(time.time() - float(timestamp), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            return f"{s / size:.0f} {unit} ago"
    return f"{s:.0f} s ago"
