"""Per-layer width bars: how many channels a pruning keeps and removes in each BN layer."""
from __future__ import annotations

from typing import Mapping

import plotly.graph_objects as go

from slimcore.viz.theme import ACCENT, REMOVED, base_layout


def layer_widths(widths: Mapping[str, int], totals: Mapping[str, int], title: str = "channels per layer") -> go.Figure:
    """Stacked bars per layer, in `totals` order: kept channels, then removed ones (total − kept)."""
    names = list(totals)
    kept = [int(widths.get(n, totals[n])) for n in names]
    removed = [max(int(totals[n]) - k, 0) for n, k in zip(names, kept)]
    share = [f"{k / t:.0%} kept" if t else "" for k, t in zip(kept, (int(totals[n]) for n in names))]
    fig = go.Figure([
        go.Bar(x=names, y=kept, name="kept", marker_color=ACCENT, customdata=share,
               hovertemplate="%{x}<br>%{y} kept (%{customdata})<extra></extra>"),
        go.Bar(x=names, y=removed, name="removed", marker_color=REMOVED, opacity=0.75,
               hovertemplate="%{x}<br>%{y} removed<extra></extra>"),
    ])
    fig.update_layout(**base_layout(title), barmode="stack",
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0))
    fig.update_xaxes(title_text="", tickangle=-35 if len(names) > 8 else 0,
                     showticklabels=len(names) <= 60)
    fig.update_yaxes(title_text="channels")
    return fig
