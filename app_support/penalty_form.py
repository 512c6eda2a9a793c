"""Inputs for a penalty's own parameters, read from its constructor, so a new penalty needs no app change."""
from __future__ import annotations

import inspect
from typing import Any

import streamlit as st

from app_support.state import keep, seed
from slimcore.penalties import PENALTIES

PARAM_HELP = {
    "p": "exponent of |γ|^p, 0 < p < 1: smaller p is closer to ℓ0 (the paper uses 1/2 and 3/4)",
    "a": "Tℓ1 shape a > 0: small a behaves like ℓ0, large a like ℓ1",
    "mode": "subgradient adds λ·∂R to γ's gradient (γ gets small, never 0); proximal applies prox after each step "
            "(exact zeros)",
    "alpha": "γ–W rescaling factor α ≤ 1 (Ye et al. 2018): γ·α and consumer weights ÷α; smaller α sparsifies faster",
    "gamma_lr": "ISTA's own learning rate μ for γ",
    "rho": "ISTA's ρ (soft threshold μ·ρ_l, weighted per layer by its MACs); empty = use λ",
    "ratio": "share of filters per conv chosen for removal (smallest ℓ1 norm)",
    "lam_step": "λ increment every lam_every steps",
    "lam_every": "steps between λ increments",
    "lam_max": "ceiling of the growing λ",
}


def penalty_parameters(name: str) -> dict[str, Any]:
    """{parameter: default} of penalty `name`, λ excluded (`mode` defaults to the class's first mode)."""
    cls = PENALTIES.get(name)
    out: dict[str, Any] = {}
    for pname, param in inspect.signature(cls.__init__).parameters.items():
        if pname in ("self", "lam") or param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        default = param.default if param.default is not inspect.Parameter.empty else None
        out[pname] = cls.modes[0] if pname == "mode" and default is None else default
    return out


def penalty_inputs(name: str, initial: dict[str, Any] | None = None, key: str = "pen") -> dict[str, Any]:
    """One input per parameter of penalty `name`; returns the chosen {parameter: value}."""
    cls = PENALTIES.get(name)
    values: dict[str, Any] = {}
    for pname, default in penalty_parameters(name).items():
        start = (initial or {}).get(pname, default)
        k = f"{key}:{name}:{pname}"
        helptext = PARAM_HELP.get(pname)
        if pname == "mode":
            seed(k, start, list(cls.modes))
            values[pname] = st.selectbox("mode", list(cls.modes), key=k, help=helptext,
                                         disabled=len(cls.modes) == 1)
        elif isinstance(default, bool):
            seed(k, bool(start))
            values[pname] = st.checkbox(pname, key=k, help=helptext)
        elif isinstance(default, int):
            seed(k, int(start))
            values[pname] = int(st.number_input(pname, step=1, key=k, help=helptext))
        elif isinstance(default, float) or default is None:
            seed(k, None if start is None else float(start))
            values[pname] = st.number_input(pname, key=k,
                                            format="%g", step=keyboard_step(start), help=helptext, placeholder="auto")
        else:
            seed(k, str(start))
            values[pname] = st.text_input(pname, key=k, help=helptext)
        keep(k)
    return {k: v for k, v in values.items() if v is not None}


def keyboard_step(value: Any) -> float:
    """A keyboard step about a tenth of the value's order of magnitude."""
    import math

    v = abs(float(value)) if value not in (None, 0) else 1.0
    return 10.0 ** (math.floor(math.log10(v)) - 1)
