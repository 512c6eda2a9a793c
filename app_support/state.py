"""Widget values that survive page switches: Streamlit drops a widget's state when its page is left."""
from __future__ import annotations

from typing import Any, Sequence

import streamlit as st

_PREFIX = "_keep:"


def seed(key: str, default: Any, options: Sequence | None = None) -> None:
    """Before a widget with `key`: restore its last value (or `default`), dropping one no longer in `options`."""
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(_PREFIX + key, default)
    if options is not None and st.session_state[key] not in options:
        st.session_state[key] = default if default in options else options[0]


def keep(key: str) -> None:
    """After the widget: remember its value outside widget state."""
    st.session_state[_PREFIX + key] = st.session_state[key]


def kept(key: str) -> Any:
    """The value `keep` last remembered for `key` in this session, or None."""
    return st.session_state.get(_PREFIX + key)


def put(key: str, value: Any) -> None:
    """Sets a widget's value from code (a callback, before the widget is drawn), and its kept copy."""
    st.session_state[key] = value
    st.session_state[_PREFIX + key] = value
