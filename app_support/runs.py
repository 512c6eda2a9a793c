"""Picking a run: a page's current run lives in the URL (?run=…), so a reload re-attaches to it, and in the session,
so leaving the page (which drops the URL's query) and coming back shows it again."""
from __future__ import annotations

import time
from typing import Sequence

import streamlit as st

from app_support.state import keep, kept
from slimcore.errors import StoreError
from slimcore.models.external import short_name
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
    model = short_name(cfg["model"]) if cfg.get("model") else None  # a `file.py:build` spec shows as `build`
    parts = [model, f"{cfg.get('penalty')}{lam}" if cfg.get("penalty") else None, cfg.get("dataset"),
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


def shown_run(store: RunStore, key: str) -> str | None:
    """The run a page whose picker is `key` opens on: the one it showed last in this session, else ?run=.

    The session comes first: Streamlit drops the picker's state and the URL's query when the user leaves the
    page, and within one session the URL only ever holds what the page itself wrote there (a reload or a typed
    address starts a new session, which has no choice of its own yet).
    """
    run_id = kept(key)
    try:
        if run_id and store.exists(run_id):
            return run_id
    except StoreError:
        pass
    return url_run(store)


def pick_run(runs: Sequence[dict], key: str, default: str | None, label: str = "Run",
             in_url: bool = False, container=None) -> str | None:
    """A select box over `runs` (newest first) preselecting `default`; the shown run is kept for `shown_run`, and
    with in_url it is also written to ?run=."""
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
        keep(key)
        if in_url:
            set_url_run(st.session_state[key])

    chosen = (container or st).selectbox(label, ids, key=key, format_func=labels.get, on_change=changed)
    keep(key)
    if in_url and st.query_params.get("run") != chosen:
        set_url_run(chosen)
    return chosen


def age(timestamp: float | None) -> str:
    """'3 min ago' style text for a store timestamp."""
    if not timestamp:
        return ""
    s = max(time.time() - float(timestamp), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            return f"{s / size:.0f} {unit} ago"
    return f"{s:.0f} s ago"
