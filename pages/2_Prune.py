"""Prune: slide one threshold over a trained run's channel ranking, see accuracy/FLOPs follow, commit and export."""
import time
from pathlib import Path

import streamlit as st

from app_support import legr_job
from app_support.errors import show_error
from app_support.layout import page_setup
from app_support.prune_view import (channel_totals, default_index, distinct_points, nearest_index, ordered_points,
                                    point_labels, ratio)
from app_support.pruning_api import has_legr, latest_commit, pruning
from app_support.runs import pick_run, url_run
from app_support.store import get_store
from app_support.upload import upload_evaluator
from slimcore.errors import SlimcoreError
from slimcore.viz import flops_percent, gamma_histogram, layer_widths, tradeoff_curve

METRICS_FIRST_S = 0.03

page_setup("Prune")
store = get_store()
st.title("Prune")
engine = pruning()
if engine is None:
    st.error("The pruning engine (`slimcore.pruning`) is not available in this installation, so runs cannot be "
             "pruned yet. Reinstall slimcore (`make install`) or update to a version that includes it.")
    st.stop()

from slimcore.pruning.preview import describe_ranking  # noqa: E402 (only once the engine is known present)

finished = [r for r in store.list_runs(kind="train") if r["status"] == "finished"]
if not finished:
    st.info("No finished training run yet: train one on the Train page first.")
    with st.expander("Evaluate an uploaded model"):
        upload_evaluator("p:upload")
    st.stop()

c1, c2 = st.columns([3, 2])
with c1:
    run_id = pick_run(finished, key="p:run", default=url_run(store), label="Trained run")
with c2:
    rankings = engine.RANKINGS.names()
    ranking = st.selectbox("Ranking", rankings, index=rankings.index("bn") if "bn" in rankings else 0,
                           key="p:ranking", help="how channels are ordered before one global threshold cuts them")
    st.caption(engine.RANKINGS.describe(ranking))
run = store.get_run(run_id)


def progress_bar(text: str, slot=None):
    """An st.progress bar (in `slot` if given) and the (done, total, message) callback the engine reports to."""
    bar = (slot or st).progress(0.0, text=text)

    def update(done: int, total: int, message: str = "") -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"{text}: {message or f'{done}/{total}'}")

    return bar, update


# LeGR learns its ranking first (regularised evolution, a background job); the others are read off the weights.
if engine.RANKINGS.get(ranking).needs_search and not has_legr(store, run_id):
    job = legr_job.status(store, run_id)
    searching = bool(job and job["status"] in ("starting", "running"))
    st.info("LeGR learns one affine correction (α, κ) per layer by regularised evolution before it can rank "
            "channels: each candidate is pruned, briefly fine-tuned and evaluated. The result is stored with the "
            "run, so this happens once; the search runs in the background and survives leaving this page.")
    if job and job["status"] in ("failed", "interrupted"):
        st.error(f"The last LeGR search {job['status']}: {job.get('message', '')}")
    if not searching:
        st.caption(f"Search settings: {engine.LEGR_DEFAULTS}")
        if st.button("Start LeGR search", type="primary", key="p:legr"):
            legr_job.start(store, run_id)
            st.rerun()
        st.stop()

    @st.fragment(run_every=1.0)
    def legr_progress() -> None:
        job = legr_job.status(store, run_id) or {}
        if job.get("status") not in ("starting", "running"):
            st.rerun()  # finished (or failed): the whole page moves on to the curve
        done, total = job.get("done", 0), job.get("total", 0)
        st.progress(done / total if total else 0.0,
                    text=f"LeGR search: {job.get('message', '')}" + (f" ({done}/{total})" if total else ""))
        if st.button("Stop the search", key="p:legr_stop", help="keeps the best candidate found so far"):
            legr_job.stop(store, run_id)

    legr_progress()
    st.stop()

# The curve is evaluated once per run and ranking (then stored); this session keeps it in memory, so a
# slider move is a look-up in `points`, not an evaluation.
cache = st.session_state.setdefault("p:curves", {})
# Always the same element here, bar or not: elements after it keep their place, so a rerun does not re-mount
# the slider (which would drop its keyboard focus).
slot = st.empty()
if (run_id, ranking) not in cache:
    bar, update = progress_bar("Evaluating the accuracy/FLOPs trade-off (once per run and ranking)", slot)
    try:
        curve = engine.get_curve(store, run_id, ranking=ranking, progress=update)
        scores = describe_ranking(store, run_id, ranking)
    except SlimcoreError as e:
        bar.empty()
        show_error(e, "compute the trade-off curve")
        st.stop()
    bar.empty()
    flat = [v for g in scores["groups"] for v in g["scores"]]
    cache[(run_id, ranking)] = (curve, flat)
curve, all_scores = cache[(run_id, ranking)]

points, base = distinct_points(ordered_points(curve)), curve.get("base") or {}
if not points:
    st.error("The trade-off curve of this run has no points.")
    st.stop()
flops = [flops_percent(p, base, points) for p in points]

# One slider over the points; the FLOPs box moves it to the nearest point (and follows it).
idx_key, flops_key = f"p:idx:{run_id}:{ranking}", f"p:flops:{run_id}:{ranking}"
if st.session_state.get(idx_key) not in range(len(points)):
    st.session_state[idx_key] = st.session_state.get("_" + idx_key, default_index(points, base))
if flops_key not in st.session_state:
    st.session_state[flops_key] = round(flops[st.session_state[idx_key]], 1)


def slider_moved() -> None:
    st.session_state["_" + idx_key] = st.session_state[idx_key]
    st.session_state[flops_key] = round(flops[st.session_state[idx_key]], 1)


def flops_typed() -> None:
    st.session_state[idx_key] = nearest_index(points, base, float(st.session_state[flops_key]))
    st.session_state["_" + idx_key] = st.session_state[idx_key]
    st.session_state[flops_key] = round(flops[st.session_state[idx_key]], 1)


labels = point_labels(points)
s1, s2 = st.columns([4, 1], vertical_alignment="bottom")
idx = s1.select_slider("threshold", options=list(range(len(points))), key=idx_key, on_change=slider_moved,
                       format_func=labels.__getitem__,
                       help="channels ranked below the threshold are removed; arrow keys step through the points")
s2.number_input("or target FLOPs %", min_value=0.0, max_value=100.0, step=5.0, format="%.1f", key=flops_key,
                on_change=flops_typed, help="moves the threshold to the point with the nearest FLOPs")
point = points[idx]

acc, base_acc = point.get("accuracy"), base.get("accuracy")
totals = channel_totals(curve, run["layers"])
kept = sum(int(point.get("widths", {}).get(k, v)) for k, v in totals.items())
params_ratio = ratio(point.get("params"), base.get("params"))
m = st.columns(4)
m[0].metric("val accuracy", f"{acc:.2%}" if acc is not None else "–",
            f"{(acc - base_acc) * 100:+.2f} pp" if acc is not None and base_acc is not None else None)
m[1].metric("FLOPs", f"{flops[idx]:.1f} %", f"{flops[idx] - 100:+.1f} %", delta_color="inverse")
m[2].metric("parameters", f"{params_ratio:.1%}" if params_ratio is not None else "–",
            f"{(params_ratio - 1) * 100:+.1f} %" if params_ratio is not None else None, delta_color="inverse")
m[3].metric("channels kept", f"{kept} / {sum(totals.values())}", f"{kept - sum(totals.values())}",
            delta_color="off")
clamp_note = st.empty()  # always present, so the charts below keep their place when it fills
if point.get("clamped"):
    clamp_note.warning(f"At this threshold some layers would lose every channel: each keeps its "
                       f"{curve.get('min_channels', 1)} best-scored channel(s) instead (the minimum width).")

# These three are redrawn on every key press: no titles or labels inside them (each text is measured by the
# browser on every redraw), headings as markdown instead, and no tool bar to rebuild.
CHART = dict(width="stretch", config={"displayModeBar": False})
# A short pause lets the metrics above reach the browser on their own, so it shows the numbers at once and
# redraws the charts (~150 ms of plotly work on a 2-core CPU) just after, instead of holding the numbers back.
time.sleep(METRICS_FIRST_S)
g1, g2 = st.columns(2)
label = "|γ|" if ranking == "bn" else f"{ranking} score"
below = sum(1 for v in all_scores if abs(v) <= float(point["threshold"])) / max(len(all_scores), 1)
g1.markdown(f"**{label} of every channel** · {below:.0%} at or below the threshold (dashed)")
g1.plotly_chart(gamma_histogram(all_scores, threshold=float(point["threshold"]), title="", xlabel=label,
                                label_threshold=False), key="p:hist", **CHART)
g2.markdown(f"**Accuracy vs FLOPs** · ◆ this threshold; dotted: unpruned ({base_acc:.1%})" if base_acc is not None
            else "**Accuracy vs FLOPs** · ◆ this threshold")
g2.plotly_chart(tradeoff_curve(points, current=point, base=base, title="", label_base=False), key="p:curve", **CHART)
st.markdown("**Channels per layer** · kept and removed at this threshold")
st.plotly_chart(layer_widths(point.get("widths", {}), totals, title=""), key="p:widths", **CHART)

# -- commit -------------------------------------------------------------------------------------------
st.subheader("Commit")
st.caption("Cuts the channels for real, optionally fine-tunes, measures test accuracy and CPU latency, and exports "
           "model.pt and model.onnx (saved as a new run of kind `prune`).")
with st.form("p:commit"):
    f1, f2, f3 = st.columns([1, 1, 2], vertical_alignment="bottom")
    ft_epochs = f1.number_input("fine-tune epochs", min_value=0, max_value=1000, value=0, step=1)
    ft_lr = f2.number_input("fine-tune lr", min_value=0.0, value=0.01, format="%g", step=0.005)
    commit = f3.form_submit_button("Commit: build the pruned model", type="primary")
if commit:
    bar, update = progress_bar("Pruning, fine-tuning and exporting")
    try:
        engine.commit(store, run_id, ranking, threshold=float(point["threshold"]), finetune_epochs=int(ft_epochs),
                      finetune_lr=float(ft_lr), progress=update)
    except SlimcoreError as e:
        show_error(e, "commit the pruning")
    bar.empty()

report = latest_commit(store, run_id)
if report:
    with st.container(border=True):
        before, after = report.get("base") or {}, report
        threshold = report.get("threshold")
        st.markdown(f"**Pruned model** `{report['run_id']}` · ranking {report['ranking']} · threshold "
                    f"{'–' if threshold is None else f'{float(threshold):.4g}'}"
                    f"{' (clamped to the minimum width)' if report.get('clamped') else ''} · fine-tuned "
                    f"{report['finetune']['epochs']} epoch(s)")
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
                        f"×{lat['speedup']:.2f} vs {lat['original_ms']:.2f} ms", delta_color="off",
                        delta_arrow="off")
        files = report.get("files") or {}
        d1, d2, _ = st.columns([1, 1, 3])
        onnx_path, pt_path = Path(files.get("onnx", "")), Path(files.get("model_pt", ""))
        if onnx_path.is_file():
            d1.download_button("Download ONNX", onnx_path.read_bytes, file_name="model.onnx",
                               mime="application/octet-stream", key="p:dl_onnx", on_click="ignore")
        if pt_path.is_file():
            d2.download_button("Download model.pt", pt_path.read_bytes, file_name="model.pt",
                               mime="application/octet-stream", key="p:dl_pt", on_click="ignore")

with st.expander("Evaluate an uploaded model"):
    upload_evaluator("p:upload")
