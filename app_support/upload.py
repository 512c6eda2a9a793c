"""The 'evaluate an uploaded model.pt' box of the Prune and Runs pages."""
from __future__ import annotations

import streamlit as st

from app_support.errors import show_error
from slimcore.errors import SlimcoreError
from slimcore.evaluation import evaluate_upload


def upload_evaluator(key: str) -> None:
    """File upload → safe load → test accuracy, or an st.error that says what is wrong with the file."""
    upload = st.file_uploader("Evaluate an uploaded model.pt (or a run's last.pt)", type=["pt", "pth"], key=key,
                              help="loaded with weights_only: files with code or other objects are refused")
    if upload is None:
        return
    with st.spinner(f"evaluating {upload.name}…"):
        try:
            result = evaluate_upload(upload.getvalue())
        except SlimcoreError as e:
            show_error(e)
            return
        except Exception as e:  # a user's file must never crash the page
            show_error(e, f"evaluate {upload.name}")
            return
    c = st.columns(4)
    c[0].metric("test accuracy", f"{result['accuracy']:.2%}")
    c[1].metric("parameters", f"{result['params']:,}")
    c[2].metric("model", result.get("model", "?"))
    c[3].metric("data set", result.get("dataset", "?"))
    st.caption(f"{upload.name}: {result.get('kind', 'model')}")
