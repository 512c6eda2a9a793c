"""The Prune page's commit result: a card for the run's last exported model, shown as the result of the settings
on the page only when it was made with exactly those settings."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from app_support.prune_path import recovery_text, show_path
from slimcore.pruning.results import commit_matches
from slimcore.pruning.settings import PruneSettings


def settings_text(config: dict) -> str:
    """'ranking bn · threshold 0.0123 · fine-tune 3 epoch(s) at lr 0.01 (cosine)' of a prune run's recorded
    settings, with its cuts and distillation when it had them."""
    threshold, share = config.get("threshold"), config.get("flops_ratio")
    cut = f"threshold {float(threshold):.4g}" if threshold is not None else (
        f"FLOPs share {float(share):.1%}" if share is not None else "no cut recorded")
    steps = int(config.get("steps") or 1)
    recovery = recovery_text(config.get("finetune") or {}, steps)
    return f"ranking {config.get('ranking', '?')} · {cut} · fine-tune {recovery}"


def show_commit(prune_run: dict, report: dict, wanted: PruneSettings | None, last_job: dict | None) -> None:
    """The commit `prune_run` (with its `report`) under the commit button. As the result of the page's settings
    (`wanted`) only when it was made with them; otherwise a line naming the settings it was made with, and its card
    folded away. `last_job`, the run's newest prune job, when it is another one (it failed, or was stopped
    before it exported), is named so that this older commit is not taken for it."""
    matches = wanted is not None and commit_matches(prune_run["config"], wanted)
    if not matches:
        st.info(f"No model has been built with these settings yet: press Commit to build it. The run's last "
                f"commit `{prune_run['id']}` was made with other settings ({settings_text(prune_run['config'])}).")
        with st.expander(f"Last commit {prune_run['id']} (other settings)"):
            commit_card(prune_run, report)
        return
    with st.container(border=True):
        if last_job is not None and last_job["id"] != prune_run["id"]:
            st.caption(f"The last commit `{last_job['id']}` {last_job['status']} without a model; this is the "
                       f"earlier commit `{prune_run['id']}`, made with these same settings.")
        commit_card(prune_run, report)


def commit_card(prune_run: dict, report: dict) -> None:
    """Heading, test accuracy, FLOPs, parameters, CPU latency and the downloads of one commit."""
    before, after = report.get("base") or {}, report
    steps, ft = report.get("steps") or [], report.get("finetune") or {}
    cuts = f"{len(steps)} cut{'s' if len(steps) > 1 else ''}"
    if steps:
        cut = (f"{cuts} toward {float(report['target_flops_ratio']):.1%} of the FLOPs"
               if report.get("target_flops_ratio") is not None else cuts)
    else:
        threshold = report.get("threshold")
        cut = f"threshold {'–' if threshold is None else f'{float(threshold):.4g}'}"
    epochs = report.get("finetune_epochs_done", ft.get("epochs_done", ft.get("epochs", 0)))
    st.markdown(f"**Pruned model** `{report['run_id']}` · ranking {report['ranking']} · {cut}"
                f"{' (clamped to the minimum width)' if report.get('clamped') else ''} · fine-tuned "
                f"{epochs} epoch(s){' in all' if steps else ''}")
    if ft.get("epochs"):
        st.caption(f"Recovered by fine-tuning: {recovery_text(ft, len(steps) or 1)}.")
    if prune_run["status"] == "stopped":
        st.caption(f"Stopped: {prune_run['message']}")
    if (report.get("compensation") or {}).get("input_size_locked"):
        st.caption("Some layers got the removed channels' constants back per position (zero padding at the "
                   f"border), so this model runs at its training input size, {report['input_shape'][1:]}, and "
                   "refuses another with a message.")
    c = st.columns(4)
    c[0].metric("test accuracy", f"{after['accuracy']:.2%}",
                f"{(after['accuracy'] - before['test_accuracy']) * 100:+.2f} pp vs {before['test_accuracy']:.2%}")
    c[1].metric("FLOPs", f"{after['flops']:,}", f"{after['flops_ratio']:.1%} of {before['flops']:,}",
                delta_color="off", delta_arrow="off")
    c[2].metric("parameters", f"{after['params']:,}", f"{after['params_ratio']:.1%} of {before['params']:,}",
                delta_color="off", delta_arrow="off")
    lat = (report.get("latency") or {}).get("batch1") or {}
    if lat:
        c[3].metric("CPU latency, batch 1", f"{lat['pruned_ms']:.2f} ms",
                    f"×{lat['speedup']:.2f} vs {lat['original_ms']:.2f} ms", delta_color="off", delta_arrow="off")
    if steps:
        with st.expander(f"The path: {cuts}, each fine-tuned before the next is ranked", expanded=True):
            show_path(steps, key=f"p:path:{report['run_id']}", base_accuracy=before.get("val_accuracy"))
    files = report.get("files") or {}
    d1, d2, _ = st.columns([1, 1, 3])
    onnx_path, pt_path = Path(files.get("onnx", "")), Path(files.get("model_pt", ""))
    if onnx_path.is_file():
        d1.download_button("Download ONNX", onnx_path.read_bytes, file_name="model.onnx",
                           mime="application/octet-stream", key="p:dl_onnx", on_click="ignore")
    if pt_path.is_file():
        d2.download_button("Download model.pt", pt_path.read_bytes, file_name="model.pt",
                           mime="application/octet-stream", key="p:dl_pt", on_click="ignore")
