"""Prune: slide one threshold over a trained run's channel ranking, see accuracy/FLOPs follow, commit and export.

The long work (LeGR's search, the curve's evaluation, a commit) runs as jobs; this page starts them and
follows them, so it can be left, reloaded or touched while they run.
"""
import streamlit as st

from app_support.commit import show_commit
from app_support.commit_form import commit_form
from app_support.commit_live import follow_commit
from app_support.errors import show_error
from app_support.jobs import follow_job
from app_support.layout import page_setup
from app_support.rules_form import rules_form
from app_support.runs import pick_run, shown_run
from app_support.sensitivity_view import show_sensitivity
from app_support.state import keep, seed
from app_support.store import get_store
from app_support.threshold_control import ThresholdControl
from app_support.upload import upload_evaluator
from slimcore import jobs
from slimcore.errors import SlimcoreError
from slimcore.pruning.curve import artifact_name, stored_curve
from slimcore.pruning.latency_curve import LatencySettings, current_latency
from slimcore.pruning.math.rankings import RANKINGS
from slimcore.pruning.math.rules import LayerRules
from slimcore.pruning.points import distinct_points, groups_at, ordered_points
from slimcore.pruning.results import fine_tuned_points, has_legr, latest_commit, legr_learned
from slimcore.pruning.settings import CurveSettings, LegrSettings

page_setup("Prune")
store = get_store()
st.title("Prune")

finished = [r for r in jobs.model_runs(store) if r["status"] == "finished"]  # trained here or imported
if not finished:
    st.info("No finished training run yet: train one on the Train page first.")
    with st.expander("Evaluate an uploaded model"):
        upload_evaluator("p:upload")
    st.stop()

c1, c2 = st.columns([3, 2])
with c1:
    run_id = pick_run(finished, key="p:run", default=shown_run(store, "p:run"), label="Trained run", in_url=True)
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

# -- per-layer rules (locked groups, caps, minimum widths, round-to): another set of plans, so another curve ----
rules = rules_form(store, run_id)

# -- the trade-off curve: evaluated once per run, ranking and rules by a job, then read from the store ---------
settings = CurveSettings(ranking=ranking, rules=rules)
cache = st.session_state.setdefault("p:curves", {})
art = store.artifact(run_id, artifact_name(settings))
cache_key = (run_id, ranking, art["name"] if art else None, art["created"] if art else None, checkpoint.get("path"),
             checkpoint.get("step"))
if cache_key not in cache:
    curve = stored_curve(store, run_id, settings)
    if curve is not None:
        cache[cache_key] = curve
curve = cache.get(cache_key)
if curve is None:
    job = jobs.latest(store, "curve", run_id, where=lambda cfg: cfg.get("ranking") == ranking  # and these rules
                      and (cfg.get("rules") or LayerRules().to_dict()) == rules.to_dict())
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

# One control over every distinct plan, recomputed and redrawn in the browser as it moves (metrics, |γ| histogram,
# accuracy/FLOPs curve, per-layer bars: app_support.threshold_control); on release this page evaluates that exact
# threshold. The FLOPs box moves it to the plan with the nearest FLOPs (and follows it); once the curve is timed,
# the latency box to the plan whose latency is the nearest at or below the target, and latency is an x-axis.
timings = current_latency(store, run_id, ranking, settings.points, settings.min_channels, rules)
control = ThresholdControl(store, run_id, ranking, curve, settings.min_channels, settings.rules, timings=timings,
                           recovered=fine_tuned_points(store, run_id, ranking))
s1, s2, *s3 = st.columns([3, 1, 1] if timings else [4, 1], vertical_alignment="bottom")
s1.caption("Channels ranked below the threshold are removed. FLOPs, parameters and widths follow exactly as you "
           "move; accuracy is exact at evaluated thresholds, interpolated (≈) between them until you release.")
s2.number_input("or target FLOPs %", min_value=0.0, max_value=100.0, step=5.0, format="%.1f", key=control.flops_key,
                on_change=control.flops_typed, help="moves the threshold to the one with the nearest FLOPs")
if timings:
    s3[0].number_input("or target latency ms", min_value=0.0, step=0.1, format="%.3f", key=control.latency_key,
                       on_change=control.latency_typed,
                       help=f"moves the threshold to the plan whose latency on {control.backend} (batch 1) is the "
                            "nearest at or below this: measured where a model was timed, else estimated along FLOPs")
point = control.draw()
clamp_note = st.empty()  # always present, so what follows keeps its place when it fills
if point.get("clamped"):
    clamp_note.warning(f"At this threshold some layers would lose every channel: each keeps its "
                       f"{curve.get('min_channels', 1)} best-scored channel(s) instead (the minimum width).")
if timings and control.missed_latency() is not None:
    st.warning(f"No plan runs in {control.missed_latency():g} ms on {control.backend}: the threshold went to the "
               "fastest one.")
if not timings:  # latency as an axis: every curve point's model timed, once, by a job
    latency_job = jobs.latest(store, "latency", run_id, where=lambda cfg: cfg.get("ranking") == ranking and (
        cfg.get("rules") or LayerRules().to_dict()) == rules.to_dict())
    if latency_job and jobs.is_active(latency_job):
        follow_job(latency_job["id"], "Timing every curve point's model", stop_help="stops without storing timings")
    else:
        l1, l2 = st.columns([4, 1], vertical_alignment="center")
        l1.caption("Latency is not an axis yet: time every curve point's model on this machine's CPU (a job, about "
                   "a second a model) to plot accuracy against measured latency and target a latency in ms.")
        if l2.button("Time the curve's models", key="p:latency"):
            try:
                jobs.start(store, "latency", LatencySettings(ranking=ranking, points=settings.points,
                                                             min_channels=settings.min_channels,
                                                             backends=("torch-cpu",), batch=1, rules=rules),
                           parent=run_id)
            except SlimcoreError as e:
                show_error(e, "start timing the curve")
            else:
                st.rerun()
        if latency_job and latency_job["status"] in ("failed", "interrupted"):
            st.error(f"The last latency timing {latency_job['status']}: {latency_job['message']}")

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

show_sensitivity(store, run_id, ranking, float(point["threshold"]), settings.min_channels, rules)

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
st.caption("Cuts the channels for real, optionally fine-tunes (distilling from the unpruned model, in one cut or "
           "several), measures test accuracy and CPU latency, and exports model.pt and model.onnx: a job (a run of "
           "kind `prune`), which goes on if you leave or reload this page.")
prune_job = jobs.latest(store, "prune", run_id)
busy = bool(prune_job and jobs.is_active(prune_job))
wanted = commit_form(store, run_id, ranking, point, control.min_channels, control.rules, busy)
if busy:
    follow_commit(prune_job)
elif prune_job and prune_job["status"] in ("failed", "interrupted", "diverged"):
    st.error(f"The last commit ({prune_job['id']}) {prune_job['status']}: {prune_job['message']}")

committed = None if busy else latest_commit(store, run_id)
if committed:
    show_commit(*committed, wanted=wanted, last_job=prune_job)

with st.expander("Evaluate an uploaded model"):
    upload_evaluator("p:upload")
