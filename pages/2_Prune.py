"""Prune: slide one threshold over a trained run's channel ranking, see accuracy/FLOPs follow, commit and export."""
import streamlit as st

from app_support.errors import show_error
from app_support.layout import page_setup
from app_support.prune_view import channel_totals, default_index, file_paths, nearest_index, ordered_points, ratio
from app_support.pruning_api import pruning
from app_support.runs import pick_run, url_run
from app_support.store import get_store
from app_support.upload import upload_evaluator
from slimcore.errors import SlimcoreError
from slimcore.viz import flops_percent, gamma_histogram, layer_widths, tradeoff_curve

page_setup("Prune")
store = get_store()
st.title("Prune")
engine = pruning()
if engine is None:
    st.error("The pruning engine (`slimcore.pruning`) is not available in this installation, so runs cannot be "
             "pruned yet. Reinstall slimcore (`make install`) or update to a version that includes it.")
    st.stop()

finished = [r for r in store.list_runs(kind="train") if r["status"] == "finished"]
if not finished:
    st.info("No finished training run yet: train one on the Train page first.")
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


def progress_bar(text: str):
    """A (done, total, message) callback drawing an st.progress bar."""
    bar = st.progress(0.0, text=text)

    def update(done: int, total: int, message: str = "") -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"{text}: {message or f'{done}/{total}'}")

    return bar, update


# LeGR's ranking has to be learned first (an evolutionary search); the others are read off the weights.
if ranking == "legr" and not engine.has_legr(store, run_id):
    st.info("LeGR learns one affine correction per layer (regularised evolution) before it can rank channels. "
            "The search evaluates many candidate prunings; it is stored with the run and done only once.")
    if st.button("Start LeGR search", type="primary", key="p:legr"):
        bar, update = progress_bar("LeGR search")
        try:
            engine.search_legr(store, run_id, progress=update)
        except SlimcoreError as e:
            show_error(e, "search the LeGR ranking")
            st.stop()
        bar.empty()
        st.rerun()
    st.stop()

cache = st.session_state.setdefault("p:curves", {})
curve = cache.get((run_id, ranking))
if curve is None:
    bar, update = progress_bar("Evaluating the accuracy/FLOPs trade-off (once per run and ranking)")
    try:
        curve = engine.get_curve(store, run_id, ranking=ranking, progress=update)
    except SlimcoreError as e:
        bar.empty()
        show_error(e, "compute the trade-off curve")
        st.stop()
    bar.empty()
    cache[(run_id, ranking)] = curve

points, base = ordered_points(curve), curve.get("base") or {}
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


s1, s2 = st.columns([4, 1], vertical_alignment="bottom")
idx = s1.select_slider("threshold", options=list(range(len(points))), key=idx_key, on_change=slider_moved,
                       format_func=lambda i: f"{float(points[i]['threshold']):.4g}",
                       help="channels ranked below the threshold are removed; arrow keys step through the points")
s2.number_input("or target FLOPs %", min_value=0.0, max_value=100.0, step=5.0, format="%.1f", key=flops_key,
                on_change=flops_typed)
point = points[idx]

acc, base_acc = point.get("accuracy"), base.get("accuracy")
totals = channel_totals(curve, run["layers"])
kept = sum(int(point.get("widths", {}).get(k, v)) for k, v in totals.items())
m = st.columns(4)
m[0].metric("accuracy", f"{acc:.2%}" if acc is not None else "–",
            f"{(acc - base_acc) * 100:+.2f} pp" if acc is not None and base_acc is not None else None)
m[1].metric("FLOPs", f"{flops[idx]:.1f} %", f"{flops[idx] - 100:+.1f} %", delta_color="inverse")
params_ratio = ratio(point.get("params"), base.get("params"))
m[2].metric("parameters", f"{params_ratio:.1%}" if params_ratio is not None else "–",
            f"{(params_ratio - 1) * 100:+.1f} %" if params_ratio is not None else None, delta_color="inverse")
m[3].metric("channels kept", f"{kept} / {sum(totals.values())}")

g1, g2 = st.columns(2)
snaps = store.snapshots(run_id, epoch_end_only=True)
if snaps and ranking == "bn":
    g1.plotly_chart(gamma_histogram(snaps[-1]["gamma"], threshold=float(point["threshold"]),
                                    title="|γ| of the trained run"), key="p:hist", width="stretch")
elif snaps:
    g1.plotly_chart(gamma_histogram(snaps[-1]["gamma"], title="|γ| of the trained run"), key="p:hist",
                    width="stretch")
    g1.caption(f"The {ranking} threshold is on that ranking's own score scale, not on |γ|.")
g2.plotly_chart(tradeoff_curve(points, current=point, base=base), key="p:curve", width="stretch")
st.plotly_chart(layer_widths(point.get("widths", {}), totals), key="p:widths", width="stretch")

# -- commit -------------------------------------------------------------------------------------------
st.subheader("Commit")
with st.form("p:commit"):
    f1, f2, f3 = st.columns([1, 1, 2], vertical_alignment="bottom")
    ft_epochs = f1.number_input("fine-tune epochs", min_value=0, max_value=1000, value=0, step=1)
    ft_lr = f2.number_input("fine-tune lr", min_value=0.0, value=0.01, format="%g", step=0.005)
    commit = f3.form_submit_button("Commit: build the pruned model", type="primary")
reports = st.session_state.setdefault("p:reports", {})
if commit:
    bar, update = progress_bar("Pruning, fine-tuning and exporting")
    try:
        reports[run_id] = engine.commit(store, run_id, ranking, threshold=float(point["threshold"]),
                                        finetune_epochs=int(ft_epochs), finetune_lr=float(ft_lr), progress=update)
    except SlimcoreError as e:
        show_error(e, "commit the pruning")
    bar.empty()

report = reports.get(run_id)
if report:
    with st.container(border=True):
        st.markdown(f"**Pruned model** · {ranking} threshold {float(report.get('threshold', point['threshold'])):.4g}")
        before = report.get("before") or base
        c = st.columns(4)
        for col, (label, key, fmt) in zip(c, (("test accuracy", "accuracy", "{:.2%}"), ("FLOPs", "flops", "{:,.0f}"),
                                              ("parameters", "params", "{:,.0f}"), ("latency", "latency", "{:.2f} ms"))):
            after_v, before_v = report.get(key), before.get(key)
            if isinstance(after_v, dict):
                after_v, before_v = after_v.get("after"), after_v.get("before", before_v)
            col.metric(label, fmt.format(after_v) if after_v is not None else "–",
                       f"before: {fmt.format(before_v)}" if before_v is not None else None, delta_color="off")
        files = file_paths(report)
        d1, d2 = st.columns(2)
        if ".onnx" in files:
            d1.download_button("Download ONNX", files[".onnx"].read_bytes(), file_name="model.onnx",
                               mime="application/octet-stream", key="p:dl_onnx")
        if ".pt" in files:
            d2.download_button("Download model.pt", files[".pt"].read_bytes(), file_name="model.pt",
                               mime="application/octet-stream", key="p:dl_pt")

with st.expander("Evaluate an uploaded model"):
    upload_evaluator("p:upload")
