"""γ figures (`slimcore.viz.gamma`): pure functions, snapshots in and a plotly Figure out, checked without a browser."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from slimcore.viz import gamma_heatmap, gamma_histogram, gamma_overlay, layer_gamma, split_layers
from slimcore.viz.gamma import bin_edges

from conftest import valid_figure as valid

LAYERS = [{"name": "a", "size": 3}, {"name": "b", "size": 5}]


def _gamma(seed: int = 0) -> np.ndarray:
    g = np.random.default_rng(seed).normal(0.5, 0.3, 8).astype(np.float32)
    g[0] = 0.0
    return g


def test_split_layers_cuts_in_order_and_checks_sizes():
    g = np.arange(8, dtype=np.float32)
    parts = split_layers(g, LAYERS)
    assert list(parts) == ["a", "b"]
    assert parts["a"].tolist() == [0, 1, 2] and parts["b"].tolist() == [3, 4, 5, 6, 7]
    assert layer_gamma(g, LAYERS, "b").tolist() == [3, 4, 5, 6, 7]
    assert layer_gamma(g, LAYERS, None).size == 8
    with pytest.raises(ValueError, match="add up"):
        split_layers(g[:7], LAYERS)
    with pytest.raises(ValueError, match="no BN layer"):
        layer_gamma(g, LAYERS, "c")


def test_gamma_histogram_counts_every_channel_and_draws_the_threshold():
    g = _gamma()
    fig = valid(gamma_histogram(g, threshold=0.3, bins=10))
    assert isinstance(fig, go.Figure)
    bar = fig.data[0]
    assert len(bar.x) == 10 and sum(bar.y) == g.size
    line = [t for t in fig.data if t.name == "threshold"]
    assert len(line) == 1 and list(line[0].x) == [pytest.approx(0.3)] * 2  # a trace: moving it is a data change
    assert fig.layout.annotations[0].text == f"threshold 0.3: {(np.abs(g) < 0.3).mean():.0%} below"
    assert "1 exactly 0" in fig.layout.title.text
    assert len(valid(gamma_histogram(g)).data) == 1
    bare = valid(gamma_histogram(g, threshold=0.3, title="", label_threshold=False))
    assert not bare.layout.annotations and not bare.layout.title.text


def test_gamma_histogram_survives_all_zero_empty_and_nan():
    assert sum(valid(gamma_histogram(np.zeros(5))).data[0].y) == 5
    assert sum(valid(gamma_histogram(np.zeros(0))).data[0].y) == 0
    assert sum(valid(gamma_histogram(np.array([np.nan, 1.0]))).data[0].y) == 1


def test_gamma_heatmap_has_one_row_per_snapshot_and_one_column_per_bin():
    snaps = [{"epoch": e, "gamma": _gamma(e)} for e in range(4)]
    fig = valid(gamma_heatmap(snaps, LAYERS, bins=12))
    heat = fig.data[0]
    assert np.asarray(heat.z).shape == (4, 12)
    assert list(heat.y) == [0.0, 1.0, 2.0, 3.0]
    assert np.asarray(heat.customdata).sum(axis=1).tolist() == [8] * 4
    one = valid(gamma_heatmap(snaps, LAYERS, layer="a", bins=12))
    assert np.asarray(one.data[0].customdata).sum(axis=1).tolist() == [3] * 4
    assert one.layout.title.text == "|γ| history: a" and fig.layout.title.text == "|γ| history: all layers"


def test_gamma_heatmap_thins_a_long_history_keeping_the_ends():
    snaps = [{"epoch": e / 10, "gamma": _gamma(e)} for e in range(1000)]
    fig = valid(gamma_heatmap(snaps, LAYERS, max_rows=50))
    y = list(fig.data[0].y)
    assert len(y) <= 50 and y[0] == 0.0 and y[-1] == pytest.approx(99.9)


def test_gamma_overlay_one_normalised_line_per_run():
    fig = valid(gamma_overlay({"r1": _gamma(1), "r2": _gamma(2)}, bins=8, threshold=0.1))
    assert [t.name for t in fig.data] == ["r1", "r2"]
    for trace in fig.data:
        assert sum(trace.y[:-1]) == pytest.approx(1.0)
    assert len(fig.layout.shapes) == 1


def test_bin_edges_run_from_zero_past_the_largest_abs_value_and_are_never_empty():
    edges = bin_edges(np.array([-2.0, 0.5, np.nan, np.inf]), bins=4)
    assert len(edges) == 5 and edges[0] == 0.0 and edges[-1] == pytest.approx(2.0002)
    assert bin_edges([np.array([0.5]), np.array([-3.0])], bins=2)[-1] == pytest.approx(3.0003)
    assert bin_edges(np.zeros(3), bins=2).tolist() == pytest.approx([0.0, 0.50005, 1.0001])
    assert bin_edges(np.array([5.0]), bins=1, upper=10.0)[-1] == pytest.approx(10.001)


def test_the_histogram_counts_are_numpy_s_on_the_same_edges():
    g = np.random.default_rng(3).normal(0, 1, 500)
    fig = gamma_histogram(g, bins=20)
    edges = bin_edges(g, 20)
    assert list(fig.data[0].y) == np.histogram(np.abs(g), bins=edges)[0].tolist()
