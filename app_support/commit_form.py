"""The Prune page's commit form: how the cut model is recovered (fine-tuning with its schedule, distillation from the
unpruned model, K cuts toward the threshold's FLOPs share) and the Commit button, which starts a prune job.

No st.form: Enter in a field only commits its value (a form would submit on Enter). The settings are built on
every run, so the page can tell whether the last commit was made with them; a bad combination is reported, with
the settings' own one-line message, only when Commit is pressed.
"""
from __future__ import annotations

from typing import Mapping

import streamlit as st

from app_support.errors import show_error
from app_support.state import keep, seed
from slimcore import jobs
from slimcore.config import SCHEDULES
from slimcore.errors import SlimcoreError
from slimcore.pruning.iterative import step_targets
from slimcore.pruning.math.rules import LayerRules
from slimcore.pruning.settings import FineTuneSettings, PruneSettings

DEFAULTS = FineTuneSettings()


def _number(column, label: str, key: str, default, **kwargs):
    seed(key, default)
    value = column.number_input(label, key=key, **kwargs)
    keep(key)
    return value


def _checkbox(column, label: str, key: str, **kwargs) -> bool:
    seed(key, False)
    value = column.checkbox(label, key=key, **kwargs)
    keep(key)
    return bool(value)


def recovery_widgets() -> dict:
    """The fine-tuning, distillation and iterative-cut widgets; their values, as typed."""
    f1, f2, f3 = st.columns(3, vertical_alignment="bottom")
    epochs = _number(f1, "fine-tune epochs", "p:ft_epochs", 0, min_value=0, max_value=1000, step=1,
                     help="epochs of the training loop on the cut model (after each cut, with several cuts)")
    lr = _number(f2, "fine-tune lr", "p:ft_lr", DEFAULTS.lr, min_value=0.0, format="%g", step=0.005)
    seed("p:ft_schedule", DEFAULTS.schedule, SCHEDULES)
    schedule = f3.selectbox("fine-tune schedule", SCHEDULES, key="p:ft_schedule",
                            help="the training loop's learning-rate schedule over each fine-tune")
    keep("p:ft_schedule")
    d1, d2, d3 = st.columns(3, vertical_alignment="bottom")
    distill = _checkbox(d1, "distil from the unpruned model", "p:distill",
                        help="fine-tune the cut model as a student of the unpruned one (Hinton et al. 2015): loss "
                             "(1 − W)·CE(labels) + W·T²·KL(teacher's softened outputs ‖ student's)")
    temperature = _number(d2, "distillation temperature T", "p:distill_t", DEFAULTS.distill_temperature,
                          min_value=0.0, format="%g", step=0.5, disabled=not distill,
                          help="softens both models' outputs; Hinton et al. found 2.5–4 best for a much narrower "
                               "student")
    weight = _number(d3, "distillation weight W", "p:distill_w", DEFAULTS.distill_weight, min_value=0.0,
                     max_value=1.0, format="%g", step=0.05, disabled=not distill,
                     help="the teacher's soft targets' share of the loss; 1 − W goes to the labels")
    k1, k2 = st.columns([1, 2], vertical_alignment="bottom")
    steps = _number(k1, "cut in K steps", "p:steps", 1, min_value=1, max_value=100, step=1,
                    help="K > 1: prune in K cuts toward this threshold's FLOPs share, fine-tuning after each cut "
                         "and re-ranking the fine-tuned model's channels before the next")
    if steps <= 1:
        st.session_state["p:keep_penalty"] = False  # only an iterative prune has fine-tunes between cuts
    keep_penalty = _checkbox(k2, "keep the sparsity penalty between cuts", "p:keep_penalty", disabled=steps <= 1,
                             help="with K > 1: the run's sparsity penalty stays on in the fine-tunes between the "
                                  "cuts (network slimming's multi-pass scheme); the last fine-tune goes without it")
    return {"epochs": epochs, "lr": lr, "schedule": schedule, "steps": steps, "distill": distill,
            "temperature": temperature, "weight": weight, "keep_penalty": keep_penalty}


def wanted_settings(values: Mapping, ranking: str, point: Mapping, min_channels: int = 1,
                    rules: LayerRules | None = None) -> PruneSettings:
    """The commit the form's `values` ask for at `point`: one cut at its threshold, or with K > 1 steps K cuts
    toward its FLOPs share (a threshold on the scores would mean another cut on every fine-tuned model).
    Distillation's T and W count only with distillation on, so a commit made without it matches."""
    distill = bool(values["distill"])
    finetune = FineTuneSettings(
        epochs=int(values["epochs"]), lr=float(values["lr"]), schedule=values["schedule"], distill=distill,
        distill_temperature=float(values["temperature"]) if distill else DEFAULTS.distill_temperature,
        distill_weight=float(values["weight"]) if distill else DEFAULTS.distill_weight,
        keep_penalty=bool(values["keep_penalty"]))
    steps = int(values["steps"])
    cut = {"flops_ratio": float(point["flops_ratio"])} if steps > 1 else {"threshold": float(point["threshold"])}
    return PruneSettings(ranking=ranking, min_channels=min_channels, rules=rules or LayerRules(), finetune=finetune,
                         steps=steps, **cut)


def steps_caption(steps: int, point: Mapping) -> None:
    """What K cuts do with the page's threshold, in words, under the form."""
    if steps <= 1:
        return
    share = float(point["flops_ratio"])
    targets = ", ".join(f"{t:.1%}" for t in step_targets(share, steps))
    st.caption(f"In {steps} cuts the commit aims at this threshold's FLOPs share, {share:.1%}, rather than at the "
               f"threshold itself: after a fine-tune the scores change, so one threshold would cut each model "
               f"differently. Cut k keeps 1 − (1 − R)·k/K of the unpruned FLOPs ({targets}), each ranking the "
               "channels of the model fine-tuned after the cut before; every intermediate model is kept.")


def commit_form(store, run_id: str, ranking: str, point: Mapping, min_channels: int, rules: LayerRules | None,
                busy: bool) -> PruneSettings | None:
    """Draws the form and the Commit button (disabled while a commit of the run is `busy`) and starts the prune
    job when pressed. Returns the settings the form asks for, or None when they are not valid."""
    values = recovery_widgets()
    steps_caption(int(values["steps"]), point)
    try:
        wanted, error = wanted_settings(values, ranking, point, min_channels, rules), None
    except SlimcoreError as e:
        wanted, error = None, e
    if st.button("Commit: build the pruned model", type="primary", key="p:commit", disabled=busy,
                 help="a commit is running: stop it first, or wait" if busy else None):
        try:
            if error is not None:
                raise error
            jobs.start(store, "prune", wanted, parent=run_id)
        except SlimcoreError as e:
            show_error(e, "commit the pruning")
        else:
            st.rerun()
    return wanted
