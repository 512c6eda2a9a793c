"""Prune: slide one threshold over a trained run's channel ranking, see accuracy/FLOPs follow, commit and export.

The long work (LeGR's search, the curve's evaluation, a commit) runs as jobs; this page starts them and
follows them, so it can be left, reloaded or touched while they run.
"""
import time
from pathlib import Path

import streamlit as st

from app_support.errors import show_error
from app_support.jobs import follow_job
from app_support.layout import page_setup
from app_support.runs import pick_run, url_run
from app_support.state import keep, seed
from app_support.store import get_store
from app_support.upload import upload_evaluator
from slimcore import jobs
from slimcore.errors import SlimcoreError
from slimcore.pruning.curve import stored_curve
from slimcore.pruning.math.rankings import RANKINGS
from slimcore.pruning.points import (channel_totals, default_index, distinct_points, flops_percent, groups_at,
                                     nearest_index, ordered_points, point_labels, ratio)
from slimcore.pruning.results import has_legr, latest_commit, legr_learned
from slimcore.pruning.settings import CurveSettings, FineTuneSettings, LegrSettings, PruneSettings
from slimcore.viz import gamma_histogram, layer_widths, tradeoff_curve

METRICS_FIRST_S = 0.03

page_setup("Prune")
store = get_store()
st.title("Prune")

finished = [r for r in jobs.runs(store, kind="train") if r["status"] == "finished"]
if not finished:
    st.info("No finished training run yet: train one on the Train page first.")
    with st.expander("Evaluate an uploaded model"):
        upload_evaluator("p:upload")
    st.stop()

c1, c2 = st.columns([3, 2])
with c1:
    run_id = pick_run(finished, key="p:run", default=url_run(store), label="Trained run", in_url=True)
with c2:
    rankings = RANKINGS.names()
    seed("p:ranking", "bn", rankings)
    ranking = st.selectbox("Ranking", rankings, key="p:ranking",
                           help="how channels are ordered before one global threshold cuts them")
    keep("p:ranking")
    st.caption(RANKINGS.describe(ranking))
run = store.get_run(run_id)
checkpoint = store.latest_checkpoint(run_id) or {}

# -- LeGR learns its ranking first (a search job); the others are read off the weights ---------------------
if RANKINGS.get(ranking).needs_search and not has_legr(store, run_id):
    search = jobs.latest(store, "search", run_id)
    st.info("LeGR learns one affine correction (α, κ) per layer by regularised evolution before it can rank "
            "channels: each candidate is pruned, briefly fine-tuned and evaluated. The result is stored with the "
            "run, so this happens once; the search runs as a job and goes on if you leave this page.")
    if search and jobs.is_active(search):
        follow_job(search["id"], "LeGR search", stop_help="keeps the best candidate found so far")
        st.stop()
    if search and search["status"] in ("failed", "interrupted", "stopped"):
        (st.warning if search["status"] == "stopped" else st.error)(
            f"The last LeGR search {search['status']}: {search['message']}")
    defaults = LegrSettings()
    with st.expander("Search settings"):
        l1, l2, l3, l4 = st.columns(4)
        target = l1.number_input("target FLOPs share", 0.05, 1.0, defaults.flops_ratio, 0.05, key="p:legr:flops",
                                 help="each candidate is pruned to this share of the FLOPs, then fine-tuned and scored")
        population = l2.number_input("population", 1, 1000, defaults.population, key="p:legr:population")
        generations = l3.number_input("generations", 0, 10_000, defaults.generations, key="p:legr:generations",
                                      help="one candidate each, after the first population")
        steps = l4.number_input("fine-tune steps τ", 0, 100_000, defaults.steps, key="p:legr:steps",
                                help="SGD steps each candidate gets before it is scored on val")
    if st.button("Start LeGR search", type="primary", key="p:legr"):
        try:
            search_settings = defaults.replace(flops_ratio=float(target), population=int(population),
                                               sample=min(defaults.sample, int(population)),
                                               generations=int(generations), steps=int(steps))
            jobs.start(store, "search", search_settings, parent=run_id)
        except SlimcoreError as e:
            show_error(e, "start the search")
        else:
            st.rerun()
    st.caption(f"{int(population) + int(generations)} candidates, each pruned to {float(target):.0%} of the FLOPs "
               f"and fine-tuned {int(steps)} steps (the paper's code: population 64, ~400 generations, τ = 200).")
    st.stop()

# -- the trade-off curve: evaluated once per run and ranking by a job, then read from the store --------------
settings = CurveSettings(ranking=ranking)
cache = st.session_state.setdefault("p:curves", {})
art = store.artifact(run_id, f"curve-{ranking}-p{settings.points}-m{settings.min_channels}")
cache_key = (run_id, ranking, art["created"] if art else None, checkpoint.get("path"), checkpoint.get("step"))
if cache_key not in cache:
    curve = stored_curve(store, run_id, settings)
    if curve is not None:
        cache[cache_key] = curve
curve = cache.get(cache_key)
if curve is None:
    job = jobs.latest(store, "curve", run_id, where=lambda cfg: cfg.get("ranking") == ranking)
    # A job older than the checkpoint (or than the LeGR search it ranked with) computed another curve: start anew.
    search_art = store.artifact(run_id, "legr") if RANKINGS.get(ranking).needs_search else None
    basis = max(float(checkpoint.get("created") or 0), float(search_art["created"]) if search_art else 0.0)
    fresh = job is None or job["created"] < basis
    if job and jobs.is_active(job):
        follow_job(job["id"], "Evaluating the accuracy/FLOPs trade-off (once per run and ranking)",
                   stop_help="stops without storing a partial curve")
        st.stop()
    if not fresh:
        st.error(f"The last evaluation of this curve {job['status']}" + (f": {job['message']}" if job["message"]
                                                                          else "; no curve was stored."))
        if not st.button("Evaluate the curve again", type="primary", key="p:curve_again"):
            st.stop()
    try:
        jobs.start(store, "curve", settings, parent=run_id)
    except SlimcoreError as e:
        show_error(e, "compute the trade-off curve")
        st.stop()
    st.rerun()

points, base = distinct_points(ordered_points(curve)), curve.get("base") or {}
if not points:
    st.error("The trade-off curve of this run has no points.")
    st.stop()
all_scores = curve.get("channel_scores") or []
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
m = st.columns(5)
m[0].metric("val accuracy", f"{acc:.2%}" if acc is not None else "–",
            f"{(acc - base_acc) * 100:+.2f} pp" if acc is not None and base_acc is not None else None)
change = point.get("output_change")
m[4].metric("output change", "–" if change is None else ("none" if change < 1e-5 else f"{change:.1%}"),
            None if change is None else ("exact removal" if change < 1e-5 else "of the logits"), delta_color="off",
            delta_arrow="off", help="how much the cut model's logits differ from the unpruned network's on val "
                                    "(‖Δ‖ / ‖logits‖): none when only channels that output a constant are removed")
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

learned = legr_learned(store, run_id) if RANKINGS.get(ranking).needs_search else None
if learned is not None:
    if learned["identity"]:
        st.warning("LeGR's best candidate is the identity map (α = 1, κ = 0 in every layer): its ranking is exactly "
                   "|γ|, and so is this curve. A longer search (more generations) or another FLOPs target may find "
                   "more; start one with `slimcore rank RUN --ranking legr --search`.")
    elif learned["no_gain"]:
        st.warning("LeGR's search found nothing better than plain |γ| on its held-out images; this ranking differs "
                   "from |γ| but was not shown to be better.")
    with st.expander("What LeGR learned: α and κ per layer"):
        fit, ident = learned["fitness"], learned["identity_fitness"]
        st.caption(f"Score of a channel: α·|γ| + κ of its layer. Best fitness {fit:.4f} against {ident:.4f} for the "
                   f"identity map (|γ|), on {learned['scored_on']}, after pruning to the search's FLOPs target and a "
                   f"few fine-tuning steps; {learned['evaluated']} candidates.")
        st.dataframe(learned["groups"], hide_index=True, width="stretch")

with st.expander("Channel groups: which layers are cut together, and where a removed channel's constant goes"):
    groups = groups_at(curve, point)
    if not groups:
        st.caption("This curve was computed before groups were recorded: evaluate it again to see them.")
    else:
        by_name = {g["name"]: g for g in groups}
        names = list(by_name)  # model order, labels without counts: the options stay put as the threshold moves
        seed("p:group", max(groups, key=lambda g: g["removed"])["name"], names)
        group = by_name[st.selectbox("channel group", names, format_func=lambda n: by_name[n]["label"], key="p:group",
                                     help="each group's channels are removed together, at the same indices")]
        keep("p:group")
        st.markdown(f"**{group['name']}**: {group['width']} channels, cut at the same indices in "
                    f"{len(group['layers'])} layers. Why they are tied: " + "; ".join(group["ties"]) + ".")
        st.caption(f"This threshold removes {group['removed']} of them. A removed channel whose γ is 0 outputs a "
                   "constant (for the others: their mean output over 512 training images). Each layer that read "
                   "it gets its own response to that constant back, in its bias; where its kernel also reads zero "
                   "padding, the response differs at the border and goes into a per-position map. So removing a "
                   "zero-γ channel changes nothing.")
        st.dataframe([{k: layer[k] for k in ("layer", "type", "role", "constant_goes")} for layer in group["layers"]],
                     hide_index=True, width="stretch",
                     column_config={"constant_goes": st.column_config.TextColumn("removed channel's constant goes")})

# -- commit: a prune job ------------------------------------------------------------------------------------
st.subheader("Commit")
st.caption("Cuts the channels for real, optionally fine-tunes, measures test accuracy and CPU latency, and exports "
           "model.pt and model.onnx: a job (a run of kind `prune`), which goes on if you leave or reload this page.")
prune_job = jobs.latest(store, "prune", run_id)
busy = bool(prune_job and jobs.is_active(prune_job))
f1, f2, f3 = st.columns([1, 1, 2], vertical_alignment="bottom")
seed("p:ft_epochs", 0)
ft_epochs = f1.number_input("fine-tune epochs", min_value=0, max_value=1000, step=1, key="p:ft_epochs")
keep("p:ft_epochs")
seed("p:ft_lr", FineTuneSettings().lr)
ft_lr = f2.number_input("fine-tune lr", min_value=0.0, format="%g", step=0.005, key="p:ft_lr")
keep("p:ft_lr")
if f3.button("Commit: build the pruned model", type="primary", key="p:commit", disabled=busy,
             help="a commit is running: stop it first, or wait" if busy else None):
    try:
        prune = PruneSettings(ranking=ranking, threshold=float(point["threshold"]),
                              finetune=FineTuneSettings(epochs=int(ft_epochs), lr=float(ft_lr)))
        jobs.start(store, "prune", prune, parent=run_id)
    except SlimcoreError as e:
        show_error(e, "commit the pruning")
    else:
        st.rerun()

if busy:
    follow_job(prune_job["id"], "Pruning, fine-tuning and exporting",
               stop_help="fine-tuning keeps its last whole epoch; the model is then measured and exported")
elif prune_job and prune_job["status"] in ("failed", "interrupted", "diverged"):
    st.error(f"The last commit ({prune_job['id']}) {prune_job['status']}: {prune_job['message']}")

committed = None if busy else latest_commit(store, run_id)
if committed:
    prune_run, report = committed
    with st.container(border=True):
        before, after = report.get("base") or {}, report
        threshold = report.get("threshold")
        same = report.get("ranking") == ranking and threshold is not None and abs(
            float(threshold) - float(point["threshold"])) <= 1e-12 * max(1.0, abs(float(threshold)))
        st.markdown(f"**Pruned model** `{report['run_id']}` · ranking {report['ranking']} · threshold "
                    f"{'–' if threshold is None else f'{float(threshold):.4g}'}"
                    f"{' (clamped to the minimum width)' if report.get('clamped') else ''} · fine-tuned "
                    f"{report['finetune'].get('epochs_done', report['finetune']['epochs'])} epoch(s)")
        if not same:
            st.caption("This is the run's last commit; it was made at another threshold or ranking than the one "
                       "chosen above. Commit again to build the model shown above.")
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
