"""Figures of recovering accuracy after the cut: a commit's fine-tuning as it goes, and an iterative commit's path
(each cut's FLOPs share, its accuracy right after the cut and after its fine-tune)."""
from __future__ import annotations

from typing import Mapping, Sequence

import plotly.graph_objects as go

from slimcore.viz.theme import PALETTE, REMOVED, base_layout, fast_figure, hline

Series = Mapping[str, Sequence[float]]  # {"step": [...], "epoch": [...], "value": [...]}

# (metric name, legend label, x-axis of its panel, colour); panel 1 loss, panel 2 accuracy.
_FINETUNE_CURVES = (
    ("train_loss", "train loss", "x", PALETTE[0]), ("val_loss", "val loss", "x", PALETTE[1]),
    ("train_accuracy", "train acc", "x2", PALETTE[2]), ("val_accuracy", "val acc", "x2", PALETTE[3]),
)
_PER_EPOCH = ("val_loss", "val_accuracy")


def finetune_curves(metrics: Mapping[str, Series], cuts_at: Sequence[float] = (), epochs: float | None = None,
                    distilled: bool = False, height: int = 300) -> go.Figure:
    """Loss and accuracy of a commit's fine-tuning against epoch, side by side; with an iterative commit, a dashed
    line where each later cut starts (`cuts_at`, in epochs). `epochs`, when known, fixes the x range to the whole
    fine-tuning, so the curve fills it as the job goes. A `distilled` fine-tune's train loss is the distillation
    loss (soft targets and labels), not the val loss's cross-entropy, and is labelled so."""
    data = []
    for name, label, axis, color in _FINETUNE_CURVES:
        if distilled and name == "train_loss":
            label = "train loss (distillation)"
        series = metrics.get(name)
        if not series or not series.get("value"):
            continue
        per_epoch = name in _PER_EPOCH
        data.append({"type": "scatter", "x": list(series["epoch"]), "y": list(series["value"]), "name": label,
                     "xaxis": axis, "yaxis": axis.replace("x", "y"), "mode": "lines+markers" if per_epoch else "lines",
                     "line": {"color": color, "width": 2, "dash": "dot" if per_epoch else "solid"},
                     "hovertemplate": f"{label}<br>epoch %{{x:.2f}}: %{{y:.4g}}<extra></extra>"})
    span = [0, float(epochs)] if epochs else None
    shapes, notes = [], []
    for k, at in enumerate(cuts_at, start=2):
        for axis in ("x", "x2"):
            shapes.append({"type": "line", "xref": axis, "yref": "paper", "x0": at, "x1": at, "y0": 0, "y1": 1,
                           "line": {"color": REMOVED, "dash": "dash", "width": 1}})
        notes.append({"x": at, "y": 0, "xref": "x2", "yref": "paper", "text": f"cut {k}", "showarrow": False,
                      "xanchor": "left", "yanchor": "bottom", "font": {"color": REMOVED, "size": 11}})
    layout = {**base_layout("", height), "shapes": shapes,
              "annotations": [*notes,
                              {"text": "loss", "x": 0.22, "y": 1.08, "xref": "paper", "yref": "paper",
                               "showarrow": False},
                              {"text": "accuracy", "x": 0.78, "y": 1.08, "xref": "paper", "yref": "paper",
                               "showarrow": False}],
              "xaxis": {"domain": [0, 0.45], "title": {"text": "fine-tuning epoch"}, "range": span},
              "xaxis2": {"domain": [0.55, 1], "title": {"text": "fine-tuning epoch"}, "range": span},
              "yaxis": {"anchor": "x", "rangemode": "tozero"},
              "yaxis2": {"anchor": "x2", "tickformat": ".0%", "range": [0, 1.02]},
              "legend": {"orientation": "h", "yanchor": "top", "y": -0.25}}
    layout["margin"] = {**layout["margin"], "t": 35}
    return fast_figure(data, layout)


def step_path(steps: Sequence[Mapping], base_accuracy: float | None = None, height: int = 320) -> go.Figure:
    """Val accuracy against FLOPs share along an iterative commit's cuts: from the unpruned model (at 100 %, when
    `base_accuracy` is known), each cut drops to its accuracy right after the cut and its fine-tune lifts it."""
    xs, ys, kinds = ([100.0], [base_accuracy], ["unpruned"]) if base_accuracy is not None else ([], [], [])
    for s in steps:
        x = 100.0 * float(s["flops_ratio"])
        xs += [x, x]
        ys += [(s.get("before_finetune") or {}).get("val_accuracy"), s.get("val_accuracy")]
        kinds += [f"step {s['step']}: after the cut", f"step {s['step']}: fine-tuned"]
    data = [{"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": "path", "showlegend": False,
             "line": {"color": PALETTE[0], "width": 1.5}, "hoverinfo": "skip"}]
    cut = [(x, y, k) for x, y, k in zip(xs, ys, kinds) if k.endswith("after the cut")]
    tuned = [(x, y, k) for x, y, k in zip(xs, ys, kinds) if k.endswith("fine-tuned")]
    for name, rows, color, symbol in (("after the cut", cut, REMOVED, "x"),
                                      ("fine-tuned", tuned, PALETTE[2], "circle")):
        data.append({"type": "scatter", "x": [r[0] for r in rows], "y": [r[1] for r in rows], "mode": "markers",
                     "name": name, "text": [r[2] for r in rows], "marker": {"size": 10, "color": color,
                                                                          "symbol": symbol},
                     "hovertemplate": "%{text}<br>FLOPs %{x:.1f}%<br>val accuracy %{y:.2%}<extra></extra>"})
    targets = [100.0 * float(s["target_flops_ratio"]) for s in steps if s.get("target_flops_ratio") is not None]
    shapes = [{"type": "line", "xref": "x", "yref": "paper", "x0": t, "x1": t, "y0": 0, "y1": 1,
               "line": {"color": "lightgray", "dash": "dot", "width": 1}} for t in targets]
    annotations = []
    if base_accuracy is not None:
        shape, note = hline(float(base_accuracy), f"unpruned {float(base_accuracy):.1%}")
        shapes.append(shape)
        annotations.append(note)
    low = min((x for x in xs if x is not None), default=0.0)
    layout = {**base_layout("", height), "shapes": shapes, "annotations": annotations,
              "xaxis": {"title": {"text": "FLOPs (% of unpruned) · dotted: each cut's target"},
                        "range": [102, max(low - 8, 0)]},
              "yaxis": {"title": {"text": "val accuracy"}, "tickformat": ".0%", "range": [0, 1.02]},
              "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0.0}}
    return fast_figure(data, layout)
