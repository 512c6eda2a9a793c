"""Inputs for a penalty's λ and parameters, generated from what its class declares, so a new penalty needs no app
change."""
from __future__ import annotations

import math
from typing import Any

import streamlit as st

from app_support.state import keep, seed
from slimcore.penalties import PENALTIES
from slimcore.penalties.elementwise import GammaPenalty
from slimcore.penalties.params import Param


def penalty_inputs(name: str, initial: dict[str, Any] | None = None, key: str = "pen") -> dict[str, Any]:
    """One input per declared parameter of penalty `name`; returns the chosen {parameter: value} (None left out)."""
    values: dict[str, Any] = {}
    for param in PENALTIES.get(name).parameters:
        k = f"{key}:{name}:{param.name}"
        values[param.name] = param_input(param, k, (initial or {}).get(param.name, param.default))
        keep(k)
    return {k: v for k, v in values.items() if v is not None}


def param_input(param: Param, key: str, start: Any) -> Any:
    """The widget for one parameter: a select box for choices, else a number or text input bounded by its range."""
    helptext = f"{param.help} ({param.allowed()}; default {param.default_text()})"
    if param.choices:
        options = list(param.choices)
        seed(key, start, options)
        return st.selectbox(param.name, options, key=key, help=helptext, disabled=len(options) == 1)
    if param.kind is str:
        seed(key, "" if start is None else str(start))
        return st.text_input(param.name, key=key, help=helptext) or (None if param.optional else "")
    # Streamlit can only enforce closed bounds; an open end (p < 1) is checked when the run is started.
    bounds = {}
    if param.low is not None and not param.low_open:
        bounds["min_value"] = param.kind(param.low)
    if param.high is not None and not param.high_open:
        bounds["max_value"] = param.kind(param.high)
    placeholder = "none" if param.optional else None
    if param.kind is int:
        seed(key, None if start is None else int(start))
        value = st.number_input(param.name, step=1, key=key, help=helptext, placeholder=placeholder, **bounds)
        return None if value is None else int(value)
    seed(key, None if start is None else float(start))
    return st.number_input(param.name, key=key, format="%g", step=keyboard_step(start), help=helptext,
                           placeholder=placeholder, **bounds)


def lam_input(penalty: str, key: str = "t:lam") -> float:
    """λ, starting at the penalty's default_lam. λ is not comparable across penalties, so switching the penalty
    moves a λ the user left alone to the new penalty's default; one the user typed stays."""
    default = PENALTIES.get(penalty).default_lam
    placed = f"{key}:placed"  # the default this form last put in the box
    seed(key, default)
    if st.session_state[key] == st.session_state.get(placed):
        st.session_state[key] = default
    if st.session_state[key] == default:
        st.session_state[placed] = default
    value = st.number_input("λ (penalty weight)", key=key, format="%g", step=keyboard_step(default),
                            min_value=0.0, help=f"default for {penalty}: {default:g}")
    keep(key)
    return float(value)


def step_caption(penalty: str, params: dict[str, Any], lam: float, lr: float, momentum: float) -> str | None:
    """'proximal step t = λ·lr / (1 − β) = …' for an elementwise penalty in proximal mode, else None."""
    if not issubclass(PENALTIES.get(penalty), GammaPenalty) or params.get("mode") != "proximal":
        return None
    return (f"proximal step t = λ·lr / (1 − momentum) = {lam * lr / (1 - momentum):g} at the start (the schedule "
            f"lowers lr); the Learn page shows what a step of this size does to γ")


def keyboard_step(value: Any) -> float:
    """A keyboard step about a tenth of the value's order of magnitude."""
    v = abs(float(value)) if value not in (None, 0) else 1.0
    return 10.0 ** (math.floor(math.log10(v)) - 1)
