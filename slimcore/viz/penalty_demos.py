"""The Learn page's experiments drawn: subgradient against proximal steps on the same γ, ISTA's γ–W rescaling,
TPP's Gram matrix before and after its term (the numbers come from `slimcore.penalties.demo`)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from slimcore.viz.theme import PALETTE, base_layout


def mode_race_plot(paths: dict[str, np.ndarray], targets: np.ndarray, height: int = 380) -> go.Figure:
    """γ of each channel over the steps, subgradient left and proximal right; useful channels (c = 1) in one
    colour, useless ones (c = 0) in another; the share exactly 0 at the end in each title."""
    modes = list(paths)
    titles = [f"{m}: {np.mean(paths[m][-1] == 0):.0%} exactly 0, {np.mean(np.abs(paths[m][-1]) < 1e-2):.0%} "
              f"below 0.01" for m in modes]
    fig = make_subplots(rows=1, cols=len(modes), shared_yaxes=True, horizontal_spacing=0.05, subplot_titles=titles)
    steps = np.arange(next(iter(paths.values())).shape[0])
    for col, mode in enumerate(modes, start=1):
        for i in range(paths[mode].shape[1]):
            useful = targets[i] > 0
            label = "useful channel (data holds it at 1)" if useful else "useless channel (data pulls it to 0)"
            first = i == (0 if useful else int(np.argmin(targets)))
            fig.add_trace(go.Scatter(x=steps, y=paths[mode][:, i], mode="lines", name=label, legendgroup=label,
                                     showlegend=first and col == 1, line=dict(color=PALETTE[0 if useful else 1],
                                                                              width=1.5),
                                     hovertemplate=f"{mode}<br>step %{{x}}: γ = %{{y:.3g}}<extra></extra>"),
                          row=1, col=col)
    fig.update_layout(**base_layout("", height), legend=dict(orientation="h", yanchor="top", y=-0.18))
    fig.update_layout(margin=dict(t=35))
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text="γ", row=1, col=1)
    return fig


def rescaling_plot(races: Sequence, height: int = 320) -> go.Figure:
    """Share of γ exactly 0 after each ISTA step, one line per rescaling factor α."""
    fig = go.Figure()
    for i, race in enumerate(races):
        fig.add_trace(go.Scatter(x=np.arange(1, len(race.zero_share) + 1), y=race.zero_share, mode="lines",
                                 name=f"α = {race.alpha:g}" + (" (no rescaling)" if race.alpha == 1 else ""),
                                 line=dict(color=PALETTE[i % len(PALETTE)], width=2),
                                 hovertemplate=f"α = {race.alpha:g}<br>step %{{x}}: %{{y:.0%}} of γ at 0<extra></extra>"))
    fig.update_layout(**base_layout("ISTA steps alone, after γ–W rescaling by α", height))
    fig.update_xaxes(title_text="ISTA step")
    fig.update_yaxes(title_text="γ exactly 0", tickformat=".0%", range=[0, 1])
    return fig


def gram_plot(before: np.ndarray, after: np.ndarray, keep: np.ndarray, height: int = 340) -> go.Figure:
    """|W Wᵀ| of one conv's filters before and after TPP's term, filters ordered kept first, chosen last."""
    order = np.concatenate([np.flatnonzero(keep), np.flatnonzero(~keep)])
    labels = [f"{'kept' if keep[i] else 'chosen'} {i}" for i in order]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("|W Wᵀ| at the start", "|W Wᵀ| after TPP's term"))
    for col, gram in ((1, before), (2, after)):
        fig.add_trace(go.Heatmap(z=gram[np.ix_(order, order)], x=labels, y=labels, zmin=0, zmax=1,
                                 colorscale="Blues", showscale=col == 2,
                                 hovertemplate="%{y} · %{x}: %{z:.3f}<extra></extra>"), row=1, col=col)
    fig.update_layout(**base_layout("", height))
    fig.update_layout(margin=dict(t=35))
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False, autorange="reversed")
    return fig
