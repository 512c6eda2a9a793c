"""Line figures: training curves of a run and accuracy-vs-FLOPs trade-off curves of pruning."""
from __future__ import annotations

from typing import Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from slimcore.pruning.points import flops_percent
from slimcore.viz.theme import PALETTE, THRESHOLD_COLOR, base_layout, fast_figure, hline

Series = Mapping[str, Sequence[float]]  # {"step": [...], "epoch": [...], "value": [...]}

# (metric name, legend label, panel) in drawing order; panels: 1 loss, 2 accuracy, 3 sparsity.
_CURVES = (
    ("train_loss", "train loss", 1), ("val_loss", "val loss", 1),
    ("train_accuracy", "train acc", 2), ("val_accuracy", "val acc", 2),
    ("sparsity@0", "|γ| = 0", 3), ("sparsity@0.001", "|γ| < 1e-3", 3),
    ("sparsity@0.01", "|γ| < 1e-2", 3), ("sparsity@0.1", "|γ| < 0.1", 3),
)
_PER_EPOCH = ("val_loss", "val_accuracy")


def training_curves(metrics: Mapping[str, Series], height: int = 340) -> go.Figure:
    """Loss, accuracy and sparsity (share of |γ| under 0, 1e-3, 1e-2, 0.1) against epoch, side by side."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=("loss", "accuracy", "sparsity"),
                        horizontal_spacing=0.07)
    for i, (name, label, col) in enumerate(_CURVES):
        series = metrics.get(name)
        if not series or not series.get("value"):
            continue
        per_epoch = name in _PER_EPOCH
        fig.add_trace(go.Scatter(
            x=list(series["epoch"]), y=list(series["value"]), name=label, legendgroup=str(col),
            mode="lines+markers" if per_epoch else "lines",
            line=dict(color=PALETTE[i % len(PALETTE)], width=2, dash="dot" if per_epoch else "solid"),
            hovertemplate=f"{label}<br>epoch %{{x:.2f}}: %{{y:.4g}}<extra></extra>",
        ), row=1, col=col)
    fig.update_layout(**base_layout("", height), legend=dict(tracegroupgap=18))
    fig.update_layout(margin=dict(t=35))
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02], row=1, col=2)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02], row=1, col=3)
    return fig


def tradeoff_curve(points: Sequence[Mapping], current: Mapping | None = None, base: Mapping | None = None,
                   title: str = "accuracy vs FLOPs", label_base: bool = True) -> go.Figure:
    """Accuracy against FLOPs % of each pruning point; the current point (and the unpruned model's accuracy as a
    dotted line, labelled unless `label_base` is False) marked."""
    pts = sorted(points, key=lambda p: flops_percent(p, base, points))
    data = [{
        "type": "scatter", "x": [flops_percent(p, base, points) for p in pts], "y": [p.get("accuracy") for p in pts],
        "mode": "lines+markers", "name": "pruned", "marker": {"size": 6, "color": PALETTE[0]},
        "line": {"color": PALETTE[0], "width": 2}, "customdata": [[p.get("threshold")] for p in pts],
        "hovertemplate": "FLOPs %{x:.1f}%<br>accuracy %{y:.2%}<br>threshold %{customdata[0]:.4g}<extra></extra>",
    }]
    layout = {**base_layout(title), "showlegend": False,
              "xaxis": {"title": {"text": "FLOPs (% of unpruned)"}, "range": [0, 102]},
              "yaxis": {"title": {"text": "accuracy"}, "tickformat": ".0%", "range": [0, 1.02]}}
    if base and base.get("accuracy") is not None:
        shape, note = hline(float(base["accuracy"]), f"unpruned {float(base['accuracy']):.1%}")
        layout.update(shapes=[shape], annotations=[note] if label_base else [])
    if current is not None:
        data.append({
            "type": "scatter", "x": [flops_percent(current, base, points)], "y": [current.get("accuracy")],
            "mode": "markers", "name": "current",
            "marker": {"size": 15, "color": THRESHOLD_COLOR, "symbol": "diamond",
                       "line": {"color": "white", "width": 1.5}},
            "hovertemplate": "current<br>FLOPs %{x:.1f}%<br>accuracy %{y:.2%}<extra></extra>",
        })
    return fast_figure(data, layout)


def tradeoff_overlay(curves: Mapping[str, tuple[Sequence[Mapping], Mapping | None]]) -> go.Figure:
    """Several runs' accuracy-vs-FLOPs curves: {label: (points, base)}."""
    fig = go.Figure()
    for i, (label, (points, base)) in enumerate(curves.items()):
        pts = sorted(points, key=lambda p: flops_percent(p, base, points))
        fig.add_trace(go.Scatter(
            x=[flops_percent(p, base, points) for p in pts], y=[p.get("accuracy") for p in pts],
            mode="lines+markers", name=label, marker=dict(size=5), line=dict(color=PALETTE[i % len(PALETTE)]),
            hovertemplate=f"{label}<br>FLOPs %{{x:.1f}}%<br>accuracy %{{y:.2%}}<extra></extra>",
        ))
    fig.update_layout(**base_layout("accuracy vs FLOPs"), showlegend=True,
                      legend=dict(orientation="h", yanchor="top", y=-0.25))
    fig.update_xaxes(title_text="FLOPs (% of unpruned)", range=[0, 102])
    fig.update_yaxes(title_text="accuracy", tickformat=".0%")
    return fig
