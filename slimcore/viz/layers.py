"""Per-layer width bars: how many channels a pruning keeps and removes in each BN layer."""
from __future__ import annotations

from typing import Mapping

import plotly.graph_objects as go

from slimcore.viz.theme import ACCENT, REMOVED, base_layout, fast_figure


def layer_widths(widths: Mapping[str, int], totals: Mapping[str, int], title: str = "channels per layer") -> go.Figure:
    """Stacked bars per layer, in `totals` order: kept channels, then removed ones (total − kept)."""
    names = [str(n) for n in totals]
    kept = [int(widths.get(n, totals[n])) for n in totals]
    removed = [max(int(totals[n]) - k, 0) for n, k in zip(totals, kept)]
    share = [f"{k / int(t):.0%} kept" if int(t) else "" for k, t in zip(kept, totals.values())]
    data = [
        {"type": "bar", "x": names, "y": kept, "name": "kept", "marker": {"color": ACCENT}, "customdata": share,
         "hovertemplate": "%{x}<br>%{y} kept (%{customdata})<extra></extra>"},
        {"type": "bar", "x": names, "y": removed, "name": "removed", "marker": {"color": REMOVED}, "opacity": 0.75,
         "hovertemplate": "%{x}<br>%{y} removed<extra></extra>"},
    ]
    layout = {**base_layout(title), "barmode": "stack",
              "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
              "xaxis": {"tickangle": -35 if len(names) > 8 else 0, "showticklabels": len(names) <= 60},
              "yaxis": {"title": {"text": "channels"}, "range": [0, max((int(t) for t in totals.values()), default=1) * 1.05]}}
    return fast_figure(data, layout)
