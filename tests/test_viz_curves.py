"""Line figures (`slimcore.viz.curves`): training curves in three panels, the accuracy/FLOPs trade-off with the
current point, and one trace per run when overlaid."""
from __future__ import annotations

import pytest

from slimcore.viz import flops_percent, tradeoff_curve, tradeoff_overlay, training_curves

from conftest import valid_figure as valid


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
