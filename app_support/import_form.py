"""The Train page's "Import a trained model" form: upload weights, pick the architecture and the data set, and an
import job records them as a finished run the Prune page can cut. Only registered models are offered (the zoo and
installed packages' entry points): no field names code to import."""
from __future__ import annotations

import streamlit as st

from app_support.errors import show_error
from app_support.jobs import follow_job
from slimcore import jobs
from slimcore.errors import SlimcoreError
from slimcore.store.runs import RunStore

KEY = "imp"


def import_form(store: RunStore) -> None:
    """Upload → import job, followed live; the finished run's accuracies and a link to prune it."""
    from slimcore.data import DATASETS
    from slimcore.models import MODELS

    upload = st.file_uploader("Weights file (a state_dict or a checkpoint, .pt/.pth)", type=["pt", "pth"],
                              key=f"{KEY}:file", help="loaded with weights_only: files holding code are refused")
    c1, c2, c3 = st.columns(3)
    model = c1.selectbox("architecture", MODELS.names(), key=f"{KEY}:model",
                         index=MODELS.names().index("tv_resnet18") if "tv_resnet18" in MODELS else 0,
                         help="the model the weights were trained as; a head of another class count is replaced")
    dataset = c2.selectbox("data set", DATASETS.names(), key=f"{KEY}:dataset",
                           index=DATASETS.names().index("mnist5k") if "mnist5k" in DATASETS else 0)
    data_root = c3.text_input("data folder", key=f"{KEY}:root", placeholder="default",
                              help="imagefolder / cifar: where the images are")
    c1.caption(MODELS.describe(model))
    c2.caption(DATASETS.describe(dataset))
    if st.button("Import", key=f"{KEY}:go", disabled=upload is None,
                 help=None if upload is not None else "choose a weights file first"):
        _start(store, upload, model, dataset, data_root.strip() or None)
    run_id = st.session_state.get(f"{KEY}:run")
    if run_id and store.exists(run_id):
        _show(store, run_id)


def _start(store: RunStore, upload, model: str, dataset: str, data_root: str | None) -> None:
    from slimcore.jobs.imports import import_config
    from slimcore.store.uploads import save_upload

    try:
        with st.spinner(f"checking {upload.name} against {model}…"):
            path = save_upload(store, upload.name, upload.getvalue())
            config = import_config(model, dataset, weights=str(path), data_root=data_root,
                                   label=f"import {upload.name}"[:80])
            st.session_state[f"{KEY}:run"] = jobs.start(store, "import", config)
    except SlimcoreError as e:
        show_error(e, f"import {upload.name}")
    except Exception as e:  # a user's file must never crash the page
        show_error(e, f"import {upload.name}")


def _show(store: RunStore, run_id: str) -> None:
    run = jobs.view(store, run_id)
    if jobs.is_active(run):
        follow_job(run_id, "import")
        return
    if run["status"] != "finished":
        st.error(f"Import {run['status']}: {run['message']}")
        return
    summary = run["summary"]
    m = st.columns(3)
    m[0].metric("val accuracy", f"{summary['val_accuracy']:.2%}")
    m[1].metric("test accuracy", f"{summary['test_accuracy']:.2%}")
    m[2].metric("|γ| < 0.01", f"{summary.get('sparsity@0.01', 0):.1%}")
    for note in summary.get("notes", []):
        st.info(note)
    if summary.get("unprunable"):
        st.warning(f"This model cannot be pruned: {summary['unprunable']}.")
    else:
        st.success(f"Imported as run `{run_id}`.")
        st.page_link("pages/2_Prune.py", label="Prune it →", query_params={"run": run_id})
