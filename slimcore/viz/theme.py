"""Colours and layout shared by every figure, so the pages look like one app."""
from __future__ import annotations

import plotly.graph_objects as go

ACCENT = "#4C78A8"          # γ bars, kept channels
REMOVED = "#E45756"         # removed channels
THRESHOLD_COLOR = "#D62728"  # the pruning threshold line and the current point
PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#B279A2", "#E45756", "#72B7B2", "#EECA3B", "#9D755D",
           "#FF9DA6", "#BAB0AC")


def base_layout(title: str = "", height: int = 360) -> dict:
    """Layout settings common to all figures: white template, tight margins, a fixed height (no title, no room
    for one, when `title` is empty: the page then heads the chart itself)."""
    return dict(
        title=dict(text=title, x=0.0, xanchor="left", font=dict(size=15)),
        template="plotly_white", height=height, margin=dict(l=55, r=20, t=60 if title else 20, b=45),
        hoverlabel=dict(namelength=-1),
    )


def fast_figure(data: list[dict], layout: dict) -> go.Figure:
    """A Figure from plain trace/layout dicts without plotly's property validation.

    Validation costs ~20 ms a figure, and the Prune page redraws three figures on every slider key press; the
    tests rebuild these figures with validation on (`go.Figure(fig.to_dict())`), so a bad property still fails.
    """
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def vline(x: float, text: str, color: str, left: bool = False) -> tuple[dict, dict]:
    """(shape, annotation) of a dashed vertical line at data x, labelled at the top."""
    shape = {"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
             "line": {"color": color, "dash": "dash", "width": 2}}
    note = {"x": x, "y": 1, "xref": "x", "yref": "paper", "text": text, "showarrow": False,
            "xanchor": "right" if left else "left", "yanchor": "top", "font": {"color": color},
            "bgcolor": "rgba(255,255,255,0.8)"}
    return shape, note


def hline(y: float, text: str, color: str = "gray") -> tuple[dict, dict]:
    """(shape, annotation) of a dotted horizontal line at data y, labelled at the bottom left."""
    shape = {"type": "line", "xref": "paper", "yref": "y", "x0": 0, "x1": 1, "y0": y, "y1": y,
             "line": {"color": color, "dash": "dot", "width": 1}}
    note = {"x": 0, "y": y, "xref": "paper", "yref": "y", "text": text, "showarrow": False, "xanchor": "left",
            "yanchor": "top", "font": {"color": color}}
    return shape, note
