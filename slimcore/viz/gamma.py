"""Figures of BN γ: a histogram of |γ| (with a pruning threshold), its history as a heatmap, run overlays."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from slimcore.viz.theme import ACCENT, PALETTE, THRESHOLD_COLOR, base_layout, fast_figure, vline

DEFAULT_BINS = 40


def split_layers(gamma: np.ndarray, layers: Sequence[Mapping]) -> dict[str, np.ndarray]:
    """Cuts a concatenated γ vector into {layer name: γ of that layer}, in `layers` order ({name, size})."""
    gamma = np.asarray(gamma)
    out: dict[str, np.ndarray] = {}
    start = 0
    for layer in layers:
        size = int(layer["size"])
        out[str(layer["name"])] = gamma[start:start + size]
        start += size
    if start != gamma.size:
        raise ValueError(f"γ has {gamma.size} values but the layers add up to {start}.")
    return out


def layer_gamma(gamma: np.ndarray, layers: Sequence[Mapping], layer: str | None = None) -> np.ndarray:
    """γ of one named layer, or all of them when `layer` is None."""
    if layer is None:
        return np.asarray(gamma)
    parts = split_layers(gamma, layers)
    if layer not in parts:
        raise ValueError(f"no BN layer {layer!r}; layers: {', '.join(parts)}.")
    return parts[layer]


def bin_edges(values: np.ndarray | Sequence[np.ndarray], bins: int = DEFAULT_BINS,
              upper: float | None = None) -> np.ndarray:
    """`bins`+1 equal edges from 0 to the largest |value| (or `upper`), never a zero-width range."""
    if upper is None:
        arrays = [np.abs(np.asarray(v, dtype=np.float64)).ravel() for v in
                  (values if isinstance(values, (list, tuple)) else [values])]
        finite = [a[np.isfinite(a)] for a in arrays]
        upper = max((float(a.max()) for a in finite if a.size), default=0.0)
    upper = float(upper) if upper and np.isfinite(upper) and upper > 0 else 1.0
    return np.linspace(0.0, upper * 1.0001, int(bins) + 1)


def _counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    a = np.abs(np.asarray(values, dtype=np.float64)).ravel()
    a = np.clip(a[np.isfinite(a)], edges[0], edges[-1])
    return np.histogram(a, bins=edges)[0]


def gamma_histogram(gamma: np.ndarray, threshold: float | None = None, bins: int = DEFAULT_BINS,
                    title: str = "|γ| distribution", upper: float | None = None,
                    log_y: bool = False, xlabel: str = "|γ|", label_threshold: bool = True) -> go.Figure:
    """Histogram of |γ| on fixed edges 0..max; a dashed line (labelled with the share below it) marks `threshold`.

    An empty `title` drops the title and its channel count; `label_threshold=False` the line's label (each text
    is measured by the browser on every redraw, which the Prune slider does on every key press).
    """
    gamma = np.asarray(gamma, dtype=np.float64).ravel()
    edges = bin_edges(gamma, bins, upper)
    counts = _counts(gamma, edges)
    centers = (edges[:-1] + edges[1:]) / 2
    bar = {"type": "bar", "x": centers.tolist(), "y": counts.tolist(), "width": np.diff(edges).tolist(),
           "marker": {"color": ACCENT}, "name": "channels",
           "hovertemplate": xlabel + " %{x:.3g}<br>%{y} channels<extra></extra>"}
    zeros = int((gamma == 0).sum())
    subtitle = f"{gamma.size} channels" + (f", {zeros} exactly 0" if zeros else "")
    layout = {**base_layout(f"{title}<br><sup>{subtitle}</sup>" if title else ""), "bargap": 0.02,
              "showlegend": False,
              "xaxis": {"title": {"text": xlabel}, "range": [float(edges[0]), float(edges[-1])]},
              "yaxis": {"title": {"text": "channels"}, "type": "log" if log_y else "linear"}}
    data = [bar]
    top = float(counts.max()) * 1.08 if counts.size and counts.max() > 0 else 1.0
    layout["yaxis"]["range"] = [0, top] if not log_y else None
    if threshold is not None and np.isfinite(threshold):
        below = float((np.abs(gamma) <= threshold).mean()) if gamma.size else 0.0
        # A trace, not a layout shape: moving it changes only data, which plotly redraws faster than a layout.
        data.append({"type": "scatter", "x": [float(threshold)] * 2, "y": [0, top], "mode": "lines",
                     "line": {"color": THRESHOLD_COLOR, "dash": "dash", "width": 2}, "name": "threshold",
                     "hovertemplate": f"threshold {threshold:.4g}: {below:.0%} below<extra></extra>"})
        if label_threshold:
            _, note = vline(float(threshold), f"threshold {threshold:.3g}: {below:.0%} below", THRESHOLD_COLOR,
                            left=threshold > (edges[0] + edges[-1]) / 2)
            layout["annotations"] = [note]
    return fast_figure(data, layout)


def gamma_heatmap(snapshots: Sequence[Mapping], layers: Sequence[Mapping], layer: str | None = None,
                  bins: int = DEFAULT_BINS, max_rows: int = 300) -> go.Figure:
    """Epoch × |γ|-bin heatmap (colour = log(1+channels)) over every snapshot: the whole history at once."""
    snaps = list(snapshots)
    if len(snaps) > max_rows:  # keep the first and the last, thin evenly in between
        keep = np.unique(np.linspace(0, len(snaps) - 1, max_rows).round().astype(int))
        snaps = [snaps[i] for i in keep]
    rows = [layer_gamma(s["gamma"], layers, layer) for s in snaps]
    edges = bin_edges(rows or [np.zeros(0)], bins)
    z = np.array([_counts(r, edges) for r in rows], dtype=np.float64).reshape(len(rows), bins)
    epochs = [float(s["epoch"]) for s in snaps]
    centers = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure(go.Heatmap(
        x=centers, y=epochs, z=np.log1p(z), customdata=z, colorscale="Viridis",
        colorbar=dict(title="log(1+n)", thickness=12),
        hovertemplate="epoch %{y:.2f}<br>|γ| %{x:.3g}<br>%{customdata:.0f} channels<extra></extra>",
    ))
    name = layer or "all layers"
    fig.update_layout(**base_layout(f"|γ| history: {name}"))
    fig.update_xaxes(title_text="|γ|")
    fig.update_yaxes(title_text="epoch")
    return fig


def gamma_overlay(series: Mapping[str, np.ndarray], bins: int = DEFAULT_BINS, threshold: float | None = None,
                  title: str = "|γ| distribution, final snapshot") -> go.Figure:
    """Several runs' |γ| distributions on shared edges, as step lines of the share of channels per bin."""
    edges = bin_edges(list(series.values()) or [np.zeros(0)], bins)
    fig = go.Figure()
    for i, (label, gamma) in enumerate(series.items()):
        counts = _counts(gamma, edges)
        share = counts / max(counts.sum(), 1)
        fig.add_trace(go.Scatter(
            x=edges, y=np.append(share, share[-1] if share.size else 0), mode="lines", line_shape="hv",
            name=label, line=dict(color=PALETTE[i % len(PALETTE)], width=2),
            hovertemplate=f"{label}<br>|γ| ≥ %{{x:.3g}}: %{{y:.1%}}<extra></extra>",
        ))
    if threshold is not None:
        fig.add_vline(x=float(threshold), line_dash="dash", line_color=THRESHOLD_COLOR)
    fig.update_layout(**base_layout(title), showlegend=True,
                      legend=dict(orientation="h", yanchor="top", y=-0.25))
    fig.update_xaxes(title_text="|γ|")
    fig.update_yaxes(title_text="share of channels", tickformat=".0%")
    return fig
