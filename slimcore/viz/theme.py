"""Colours and layout shared by every figure, so the pages look like one app."""
from __future__ import annotations

ACCENT = "#4C78A8"          # γ bars, kept channels
REMOVED = "#E45756"         # removed channels
THRESHOLD_COLOR = "#D62728"  # the pruning threshold line and the current point
PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#B279A2", "#E45756", "#72B7B2", "#EECA3B", "#9D755D",
           "#FF9DA6", "#BAB0AC")


def base_layout(title: str = "", height: int = 360) -> dict:
    """Layout settings common to all figures: white template, tight margins, a fixed height."""
    return dict(
        title=dict(text=title, x=0.0, xanchor="left", font=dict(size=15)),
        template="plotly_white", height=height, margin=dict(l=55, r=20, t=60, b=45),
        hoverlabel=dict(namelength=-1),
    )
