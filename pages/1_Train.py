"""Train: choose data, model and penalty, start a background job, and watch BN γ move while it trains."""
import time

import streamlit as st

from app_support.errors import show_error, user_errors
from app_support.import_form import import_form
from app_support.layout import page_setup
from app_support.live import gamma_now, run_feed
from slimcore.jobs.follow import format_seconds
from app_support.penalty_form import lam_input, penalty_inputs, step_caption
from app_support.runs import age, pick_run, set_url_run, url_run
from app_support.state import keep, put, seed
from app_support.store import devices, get_store
from slimcore import jobs
from slimcore.config import TrainConfig
from slimcore.data import DATASETS
from slimcore.errors import ConfigError, SlimcoreError
from slimcore.models import MODELS
from slimcore.penalties import PENALTIES
from slimcore.recipes import RECIPES
from slimcore.store.schema import ACTIVE_STATUSES
from slimcore.training.health import assess
from slimcore.viz import gamma_heatmap, gamma_histogram, layer_gamma, training_curves

page_setup("Train")
store = get_store()
DEFAULTS = TrainConfig()
ALL_LAYERS = "all layers"

st.title("Train")
st.caption("Train a CNN with a sparsity penalty on its BatchNorm scales γ; channels whose γ reaches (near) zero "
           "can be pruned afterwards.")

runs = jobs.runs(store, kind="train")
current = url_run(store) or (runs[0]["id"] if runs else None)
run = jobs.view(store, current) if current else None
active = bool(run and run["status"] in ACTIVE_STATUSES)

NO_RECIPE = "(none: the studio's defaults)"


def apply_recipe() -> None:
    """Puts the chosen paper's set-up into the form's widgets (each can still be changed)."""
    name = st.session_state["t:recipe"]
    train = {**DEFAULTS.to_dict(), **(RECIPES.get(name).train if name != NO_RECIPE else {})}
    for key, field in (("t:dataset", "dataset"), ("t:model", "model"), ("t:penalty", "penalty"),
                       ("t:epochs", "epochs"), ("t:lr", "lr"), ("t:batch", "batch_size")):
        put(key, train[field])
    put("t:lam", train["lam"] if name != NO_RECIPE else PENALTIES.get(train["penalty"]).default_lam)
    st.session_state["t:lam:placed"] = None  # a λ the recipe set is the user's choice, not a default to replace
    for param, value in train.get("penalty_params", {}).items():
        put(f"t:pp:{train['penalty']}:{param}", value)


# -- settings ---------------------------------------------------------------------------------------------
with st.expander("Settings of a new run", expanded=not active):
    recipes = [NO_RECIPE, *RECIPES.names()]
    seed("t:recipe", NO_RECIPE, recipes)
    recipe_name = st.selectbox("start from a paper's recipe", recipes, key="t:recipe", on_change=apply_recipe,
                               help="fills in the paper's published set-up (model, data, penalty, λ, schedule); "
                                    "every field can still be changed")
    keep("t:recipe")
    recipe = RECIPES.get(recipe_name) if recipe_name != NO_RECIPE else None
    if recipe is not None:
        st.caption(f"**{recipe.paper}**. Then: {recipe.prune}. Reported: {recipe.reported} ({recipe.source}). "
                   f"Momentum {recipe.train.get('momentum', DEFAULTS.momentum)}, weight decay "
                   f"{recipe.train.get('weight_decay', DEFAULTS.weight_decay)}, schedule "
                   f"{recipe.train.get('schedule', DEFAULTS.schedule)} come with it.")
    c1, c2, c3 = st.columns(3)
    with c1:
        names = DATASETS.names()
        seed("t:dataset", DEFAULTS.dataset, names)
        dataset = st.selectbox("data set", names, key="t:dataset", help=DATASETS.describe(DEFAULTS.dataset))
        keep("t:dataset")
        st.caption(DATASETS.describe(dataset))
        seed("t:data_root", "")
        data_root = st.text_input("data folder", key="t:data_root", placeholder="default",
                                  help="imagefolder: a folder of class sub-folders of images; cifar10/cifar100: "
                                       "where the files are (or are downloaded to). Empty: the default.")
        keep("t:data_root")
        names = MODELS.names()
        seed("t:model", DEFAULTS.model, names)
        model = st.selectbox("model", names, key="t:model")
        keep("t:model")
        st.caption(MODELS.describe(model))
        found = devices()
        choices = ["auto", *found]
        seed("t:device", DEFAULTS.device, choices)
        device = st.selectbox("device", choices, key="t:device",
                              help="auto picks the best device present: cuda, then mps, then cpu")
        keep("t:device")
        st.caption("GPU present: " + ("yes (" + ", ".join(d for d in found if d != "cpu") + ")"
                                      if len(found) > 1 else "no, training uses the CPU"))
    with c2:
        names = PENALTIES.names()
        seed("t:penalty", DEFAULTS.penalty, names)
        penalty = st.selectbox("penalty on γ", names, key="t:penalty")
        keep("t:penalty")
        st.caption(PENALTIES.describe(penalty))
        penalty_params = penalty_inputs(penalty, key="t:pp")
    with c3:
        lam = lam_input(penalty, key="t:lam")
        seed("t:epochs", DEFAULTS.epochs)
        epochs = st.number_input("epochs", key="t:epochs", step=1)
        keep("t:epochs")
        seed("t:lr", DEFAULTS.lr)
        lr = st.number_input("learning rate", key="t:lr", format="%g", step=0.01)
        keep("t:lr")
        if (caption := step_caption(penalty, penalty_params, lam, lr, (recipe.train if recipe else {}).get("momentum", DEFAULTS.momentum))) is not None:
            st.caption(caption)
        seed("t:batch", DEFAULTS.batch_size)
        batch_size = st.number_input("batch size", key="t:batch", step=16)
        keep("t:batch")
    if st.button("Start training", type="primary", key="t:start", disabled=active,
                 help="a run is active; stop it first" if active else None):
        try:
            extra = {k: recipe.train[k] for k in ("momentum", "weight_decay", "schedule")
                     if recipe is not None and k in recipe.train}
            config = DEFAULTS.replace(dataset=dataset, data_root=data_root.strip() or None, model=model,
                                      penalty=penalty, lam=float(lam),
                                      penalty_params=penalty_params, epochs=int(epochs), lr=float(lr),
                                      batch_size=int(batch_size), device=device,
                                      label=f"recipe {recipe.name}" if recipe is not None else "", **extra)
        except ConfigError as e:
            st.error(f"Not started: {e}")
        else:
            with user_errors("start the run"), st.spinner("Checking the device and the data…"):
                new_id = jobs.start_training(config, store)
                set_url_run(new_id)
                st.session_state.pop("t:run", None)
                st.rerun()

with st.expander("Import a trained model (prune weights you already have, no training)",
                 expanded=bool(st.session_state.get("imp:run"))):
    import_form(store)

# -- the current run --------------------------------------------------------------------------------------
if run is None:
    st.info("No run yet: choose the settings above and press **Start training**.")
    st.stop()

pick_run(runs, key="t:run", default=current, label="Run shown", in_url=True, container=st.sidebar)

cfg = run["config"]
head, b1, b2 = st.columns([6, 1, 1], vertical_alignment="bottom")
params = ", ".join(f"{k}={v}" for k, v in cfg.get("penalty_params", {}).items())
head.subheader(f"{cfg['model']} on {cfg['dataset']} · {cfg['penalty']} λ={cfg['lam']:g}"
               + (f" ({params})" if params else ""))
if b1.button("Stop", key="t:stop", disabled=not active):
    with user_errors("stop the run"):
        jobs.stop(store, run["id"])
        st.toast("Stop requested: the job checkpoints and stops.")
can_resume = run["status"] in jobs.RESUMABLE
if b2.button("Resume", key="t:resume", disabled=not can_resume):
    try:
        jobs.resume(store, run["id"])
    except SlimcoreError as e:
        show_error(e, "resume")
    else:
        time.sleep(0.3)
        st.rerun()
if run["status"] in ("failed", "diverged", "interrupted"):
    st.error(f"Run {run['status']}: {run['message'] or 'the job ended without a message (see job.log in its folder)'}")
for finding in assess(run["summary"], run["config"], run["status"]):
    st.warning(f"**This run {finding['problem']}**: {finding['message']}")

layer_names = [layer["name"] for layer in run["layers"]]
layer_choice = st.selectbox("γ of layer", [ALL_LAYERS, *layer_names], key="t:layer")
layer = None if layer_choice == ALL_LAYERS else layer_choice


@st.fragment(run_every=1.0 if active else None)
def live_view(run_id: str, layer: str | None, was_active: bool) -> None:
    """Re-drawn every second while the job runs: progress, γ now, γ history, curves."""
    run = jobs.view(store, run_id)
    if run["layers"] and not layer_names:
        st.rerun()  # the job has just recorded its BN layers: redraw the page so the layer list offers them
    feed = run_feed(store, run)
    st.caption(f"run `{run['id']}` · **{run['status']}** · updated {age(run['updated'])}"
               + (f" · {run['message']}" if run["message"] else ""))
    progress = min(max(float(run["progress"] or 0.0), 0.0), 1.0)
    epochs = run["config"]["epochs"]
    if run["status"] in ACTIVE_STATUSES:
        left = feed.time_left(run)
        eta = f" · about {format_seconds(left)} left" if left is not None else " · estimating time left…"
        st.progress(progress, text=f"{run['status']}: epoch {min(progress * epochs, epochs):.1f} of {epochs} · "
                                   f"{progress:.0%}{eta}")
    else:
        st.progress(progress, text=f"{run['status']}: {progress:.0%} of {epochs} epochs")
    summary = run["summary"]
    now = gamma_now(feed)  # the γ tiles and the histogram show this one snapshot
    where = f"every BN channel, in the γ snapshot at epoch {now.epoch:.2f}" if now else "no γ snapshot yet"
    m = st.columns(4)
    m[0].metric("epoch", f"{summary.get('epoch', 0)} / {epochs}", help="epochs completed")
    m[1].metric("val accuracy", f"{summary['val_accuracy']:.2%}" if "val_accuracy" in summary else "–",
                help="at the end of the last completed epoch")
    m[2].metric("|γ| < 0.01", now.share("sparsity@0.01") if now else "–", help=where)
    m[3].metric("γ exactly 0", now.share("sparsity@0") if now else "–", help=where)

    if now is not None and run["layers"]:
        gamma = layer_gamma(now.gamma, run["layers"], layer)
        left_col, right_col = st.columns(2)
        left_col.plotly_chart(
            gamma_histogram(gamma, title=f"|γ| at epoch {now.epoch:.2f}: {layer or ALL_LAYERS}"),
            key="t:hist", width="stretch")
        right_col.plotly_chart(gamma_heatmap(feed.snapshots, run["layers"], layer), key="t:heat",
                               width="stretch")
    else:
        st.info("Waiting for the first γ snapshot (the job is loading data and model)…")
    if feed.metrics:
        st.plotly_chart(training_curves(feed.metrics), key="t:curves", width="stretch")
    if was_active and run["status"] not in ACTIVE_STATUSES:
        st.rerun()  # the whole page: buttons and the refresh interval follow the new status


live_view(run["id"], layer, active)
