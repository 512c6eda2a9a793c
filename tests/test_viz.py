"""Figure builders: pure functions, data in and a plotly Figure out, checked without a browser."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from slimcore.viz import (flops_percent, gamma_heatmap, gamma_histogram, gamma_overlay, layer_gamma, layer_widths,
                          penalty_curves, penalty_plot, split_layers, tradeoff_curve, tradeoff_overlay,
                          training_curves)

LAYERS = [{"name": "a", "size": 3}, {"name": "b", "size": 5}]


def valid(fig: go.Figure) -> go.Figure:
    """Rebuilds the figure with plotly's validation on (the fast builders skip it), so a bad property fails."""
    assert isinstance(fig, go.Figure)
    go.Figure(fig.to_dict())
    return fig


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
    assert "below" in fig.layout.annotations[0].text
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
    assert "a" in one.layout.title.text


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


def test_training_curves_place_loss_accuracy_and_sparsity_in_three_panels():
    series = lambda v: {"step": [1, 2], "epoch": [0.5, 1.0], "value": v}  # noqa: E731
    metrics = {"train_loss": series([2.0, 1.0]), "val_accuracy": series([0.5, 0.8]),
               "sparsity@0.01": series([0.0, 0.3]), "lr": series([0.1, 0.1])}
    fig = valid(training_curves(metrics))
    by_name = {t.name: t for t in fig.data}
    assert set(by_name) == {"train loss", "val acc", "|γ| < 1e-2"}  # lr is not drawn
    assert by_name["train loss"].xaxis == "x" and by_name["val acc"].xaxis == "x2"
    assert by_name["|γ| < 1e-2"].xaxis == "x3"
    assert len(valid(training_curves({})).data) == 0


POINTS = [
    {"threshold": 0.0, "flops": 100.0, "params": 50.0, "accuracy": 0.9, "widths": {"a": 3, "b": 5}},
    {"threshold": 0.2, "flops": 60.0, "params": 30.0, "accuracy": 0.85, "widths": {"a": 2, "b": 3}},
    {"threshold": 0.5, "flops": 20.0, "params": 10.0, "accuracy": 0.4, "widths": {"a": 1, "b": 1}},
]
BASE = {"flops": 100.0, "params": 50.0, "accuracy": 0.9}


def test_flops_percent_uses_the_base_or_the_largest_point():
    assert flops_percent(POINTS[1], BASE) == pytest.approx(60.0)
    assert flops_percent(POINTS[2], None, POINTS) == pytest.approx(20.0)


def test_tradeoff_curve_sorted_by_flops_with_the_current_point_marked():
    fig = valid(tradeoff_curve(POINTS, current=POINTS[1], base=BASE))
    line, current = fig.data
    assert list(line.x) == [20.0, 60.0, 100.0]
    assert list(line.y) == [0.4, 0.85, 0.9]
    assert list(current.x) == [60.0] and list(current.y) == [0.85]
    assert any(s.type == "line" for s in fig.layout.shapes)  # the unpruned accuracy
    assert len(valid(tradeoff_curve(POINTS)).data) == 1


def test_tradeoff_overlay_one_trace_per_run():
    fig = valid(tradeoff_overlay({"r1": (POINTS, BASE), "r2": (POINTS[:2], None)}))
    assert [t.name for t in fig.data] == ["r1", "r2"]


def test_layer_widths_stacks_kept_and_removed_to_the_total():
    fig = valid(layer_widths({"a": 2, "b": 1}, {"a": 3, "b": 5}))
    kept, removed = fig.data
    assert list(kept.x) == ["a", "b"] and list(kept.y) == [2, 1] and list(removed.y) == [1, 4]
    assert fig.layout.barmode == "stack"
    assert list(valid(layer_widths({}, {"a": 3})).data[1].y) == [0]  # a layer missing from widths is kept whole


def test_penalty_plot_draws_value_and_prox_for_each_penalty():
    from slimcore.penalties import get

    pens = {"l1": get("l1", lam=1.0), "tl1": get("tl1", lam=1.0, a=1.0)}
    fig = valid(penalty_plot(pens, step=0.5, n=201))
    names = [t.name for t in fig.data]
    assert names.count("l1") == 2 and names.count("tl1") == 2 and "y = x (no penalty)" in names
    value, prox = penalty_curves(pens["l1"], 0.5, np.array([-2.0, 0.3, 1.0]))
    assert value.tolist() == [2.0, 0.3, 1.0]
    assert prox.tolist() == [-1.5, 0.0, 0.5]  # soft threshold by t = 0.5


def test_the_fast_figures_are_still_checked_by_the_tests():
    from slimcore.viz.theme import fast_figure

    with pytest.raises(ValueError):
        valid(fast_figure([{"type": "bar", "colour": "red"}], {}))
