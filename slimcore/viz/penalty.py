"""Penalty shapes for the Learn page: R(x), its slope R′(x) and its proximal map prox_t(x) side by side."""
from __future__ import annotations

from typing import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from slimcore.viz.theme import PALETTE, base_layout


def penalty_curves(penalty, step: float, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(value(x), prox(x, step)) of a penalty object as float64 arrays (its math is elementwise on tensors)."""
    import torch

    xt = torch.as_tensor(np.asarray(x, dtype=np.float64))
    with torch.no_grad():
        value = penalty.value(xt).double().numpy()
        prox = penalty.prox(xt, float(step)).double().numpy()
    return value, prox


def _break_jumps(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inserts a gap where y jumps (the prox of a nonconvex penalty is discontinuous at its threshold)."""
    dx = float(np.median(np.diff(x))) if x.size > 1 else 1.0
    jumps = np.flatnonzero(np.abs(np.diff(y)) > 20 * abs(dx)) + 1
    return np.insert(x, jumps, np.nan), np.insert(y.astype(np.float64), jumps, np.nan)


def penalty_slope(penalty, x: np.ndarray) -> np.ndarray:
    """R′(x), the push toward zero a subgradient step applies (the penalty's own subgradient, λ = 1)."""
    import torch

    with torch.no_grad():
        return penalty.grad(torch.as_tensor(np.asarray(x, dtype=np.float64))).double().numpy()


SLOPE_CAP = 4.0  # ℓp's slope grows without bound near 0: the plot is cut here (the hover says so)


def penalty_plot(penalties: Mapping[str, object], step: float, x_max: float = 2.0, n: int = 801,
                 height: int = 420) -> go.Figure:
    """Left: R(x) of each penalty; middle: its slope R′(x), the push toward 0; right: prox_t(x) for t = `step`
    (λ·lr / (1 − β) when built with λ = 1), with y = x."""
    x = np.linspace(-x_max, x_max, int(n))
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.07,
                        subplot_titles=("penalty R(x)", "slope R′(x): the push toward 0",
                                        f"prox map, t = λ·lr / (1 − β) = {step:.3g}"))
    for i, (label, penalty) in enumerate(penalties.items()):
        value, prox = penalty_curves(penalty, step, x)
        slope = penalty_slope(penalty, x)
        color = PALETTE[i % len(PALETTE)]
        fig.add_trace(go.Scatter(x=x, y=value, name=label, legendgroup=label, line=dict(color=color, width=2),
                                 hovertemplate=f"{label}<br>R(%{{x:.3f}}) = %{{y:.4g}}<extra></extra>"),
                      row=1, col=1)
        shown = np.where(np.abs(slope) > SLOPE_CAP, np.nan, slope)
        sx, sy = _break_jumps(x, shown)
        fig.add_trace(go.Scatter(x=sx, y=sy, name=label, legendgroup=label, showlegend=False,
                                 line=dict(color=color, width=2),
                                 hovertemplate=f"{label}<br>R′(%{{x:.3f}}) = %{{y:.4g}}<extra></extra>"),
                      row=1, col=2)
        zeroed = np.abs(prox) == 0
        cut = float(np.abs(x[zeroed]).max()) if zeroed.any() else 0.0
        px, py = _break_jumps(x, prox)
        fig.add_trace(go.Scatter(x=px, y=py, name=label, legendgroup=label, showlegend=False,
                                 line=dict(color=color, width=2),
                                 hovertemplate=(f"{label}<br>prox(%{{x:.3f}}) = %{{y:.4g}}<br>"
                                                f"zero for |x| ≤ {cut:.3g}<extra></extra>")),
                      row=1, col=3)
    fig.add_trace(go.Scatter(x=x, y=x, name="y = x (no penalty)", line=dict(color="gray", dash="dot", width=1),
                             hoverinfo="skip"), row=1, col=3)
    fig.update_layout(**base_layout("", height), legend=dict(orientation="h", yanchor="top", y=-0.15))
    fig.update_layout(margin=dict(t=35))
    fig.update_xaxes(title_text="x (a BN γ)", zeroline=True)
    fig.update_yaxes(title_text="R(x)", row=1, col=1)
    fig.update_yaxes(title_text=f"R′(x) (cut at ±{SLOPE_CAP:g})", range=[-SLOPE_CAP, SLOPE_CAP], row=1, col=2)
    fig.update_yaxes(title_text="γ after one prox step", row=1, col=3, scaleanchor="x3", scaleratio=1)
    return fig
