"""Errors shown to the user as `st.error` boxes, never as tracebacks."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import streamlit as st

from slimcore.errors import SlimcoreError


def show_error(error: BaseException, doing: str = "") -> None:
    """An st.error with the message of a slimcore error (written for users) or a short generic one."""
    prefix = f"Could not {doing}: " if doing else ""
    if isinstance(error, SlimcoreError):
        st.error(f"{prefix}{error}")
    else:
        st.error(f"{prefix}{type(error).__name__}: {error}")


@contextmanager
def user_errors(doing: str = "") -> Iterator[None]:
    """Shows a SlimcoreError raised inside the block as st.error and lets the page go on."""
    try:
        yield
    except SlimcoreError as e:
        show_error(e, doing)
