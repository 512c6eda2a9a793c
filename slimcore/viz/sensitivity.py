"""The sensitivity heatmap: each channel group (rows) cut alone to each share removed (columns), coloured by how
much val accuracy it costs, with the share the global threshold removes from each group drawn over it."""
from __future__ import annotations

from typing import Mapping, Sequence

import plotly.graph_objects as go

from slimcore.viz.theme import THRESHOLD_COLOR, base_layout, fast_figure


# blue: accuracy gained, white: unchanged, red: lost (plotly's own RdBu is grey in the middle)
DIVERGING = [[0.0, "#2166AC"], [0.25, "#92C5DE"], [0.5, "#F7F7F7"], [0.75, "#F4A582"], [1.0, "#B2182B"]]


def sensitivity_heatmap(drops: Mapping, removed: Sequence[float] | None = None,
                        title: str = "") -> go.Figure:
    """Groups × shares removed, colour = val accuracy lost (`accuracy_drops`); `removed` (`removed_shares`, one
    share per group) is drawn as a marker per row: where the current threshold cuts into each group."""
    groups, shares = [str(g) for g in drops["groups"]], [float(s) for s in drops["shares"]]
    z = [[float(v) for v in row] for row in drops["drops"]]
    worst = max((abs(v) for row in z for v in row), default=0.0) or 0.01
    data = [{"type": "heatmap", "x": shares, "y": groups, "z": z, "zmin": -worst, "zmax": worst, "zmid": 0,
             "colorscale": DIVERGING, "name": "accuracy drop",
             "colorbar": {"title": {"text": "val accuracy<br>lost"}, "tickformat": ".0%", "thickness": 12},
             "hovertemplate": "%{y}: %{x:.0%} of its channels removed<br>val accuracy lost %{z:.2%}<extra></extra>"}]
    if removed is not None:
        data.append({"type": "scatter", "x": [float(r) for r in removed], "y": groups, "mode": "markers+lines",
                     "name": "this threshold removes", "line": {"color": THRESHOLD_COLOR, "width": 1, "dash": "dot"},
                     "marker": {"color": THRESHOLD_COLOR, "symbol": "diamond", "size": 10,
                                "line": {"color": "white", "width": 1}},
                     "hovertemplate": "%{y}: this threshold removes %{x:.1%}<extra></extra>"})
    step = (shares[1] - shares[0]) if len(shares) > 1 else 0.1
    layout = {**base_layout(title, height=max(260, 26 * len(groups) + 130)),
              "xaxis": {"title": {"text": "share of the group's channels removed (the group alone)"},
                        "tickformat": ".0%", "range": [-0.02, max(shares[-1] + step / 2, 1.0) + 0.02]},
              "yaxis": {"autorange": "reversed", "title": {"text": "channel group"}, "type": "category"},
              "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
              "showlegend": removed is not None}
    return fast_figure(data, layout)
