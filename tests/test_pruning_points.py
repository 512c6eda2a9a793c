"""The points of a stored curve as the Prune page's slider walks them (`slimcore.pruning.points`): threshold order
without repeats, labels that keep close thresholds apart, the point nearest a FLOPs target, the default point."""
from __future__ import annotations

import pytest

from slimcore.pruning.points import (channel_totals, default_index, flops_percent, nearest_index, ordered_points,
                                     point_labels, ratio)


def test_slider_labels_keep_close_thresholds_apart():
    from slimcore.pruning.points import point_labels

    # a select slider's value travels as its label: equal labels would merge two positions into one
    labels = point_labels([{"threshold": 0.476001}, {"threshold": 0.476004}, {"threshold": 0.5}])
    assert len(set(labels)) == 3 and labels[2] == "0.5"


def test_prune_points_drop_repeats_and_find_the_nearest_flops():
    from slimcore.pruning.points import default_index, distinct_points, nearest_index, ordered_points

    curve = {"points": [
        {"threshold": 0.3, "flops": 40, "accuracy": 0.5, "widths": {"a": 1}},
        {"threshold": 0.1, "flops": 90, "accuracy": 0.9, "widths": {"a": 3}},
        {"threshold": 0.2, "flops": 90, "accuracy": 0.9, "widths": {"a": 3}},
    ]}
    points = distinct_points(ordered_points(curve))
    assert [p["threshold"] for p in points] == [0.1, 0.3]
    base = {"flops": 100, "accuracy": 0.905}
    assert nearest_index(points, base, 45) == 1 and nearest_index(points, base, 100) == 0
    assert default_index(points, base) == 0  # the most pruned point within 1 pp of the unpruned accuracy


def test_labels_that_nine_digits_cannot_tell_apart_are_numbered():
    labels = point_labels([{"threshold": 0.1}, {"threshold": 0.1}, {"threshold": 0.3}])
    assert labels == ["0.1 (#1)", "0.1 (#2)", "0.3 (#3)"]
    assert point_labels([{"threshold": 0.12345}, {"threshold": 0.5}]) == ["0.123", "0.5"]


def test_flops_percent_of_the_base_or_else_of_the_largest_point():
    points = [{"flops": 50}, {"flops": 200}, {"flops": None}]
    assert flops_percent({"flops": 50}, {"flops": 100}) == 50.0
    assert flops_percent({"flops": 50}, None, points) == 25.0
    assert flops_percent({"flops": None}, {"flops": 100}) == 0.0 and flops_percent({"flops": 5}, None) == 500.0


def test_nearest_prefers_the_larger_model_on_a_tie_and_needs_points():
    points = [{"flops": 40}, {"flops": 60}]
    assert nearest_index(points, {"flops": 100}, 50) == 1
    with pytest.raises(ValueError, match="no points"):
        nearest_index([], None, 50)


def test_default_is_the_middle_point_when_accuracy_is_unknown_and_the_largest_model_when_none_is_close():
    points = [{"flops": 90, "accuracy": 0.5}, {"flops": 60, "accuracy": 0.4}, {"flops": 30, "accuracy": None}]
    assert default_index(points, None) == 1 and default_index(points, {"flops": 100}) == 1
    assert default_index(points, {"flops": 100, "accuracy": 0.9}) == 0
    assert default_index([], {"accuracy": 0.9}) == 0


def test_ordered_points_sort_by_threshold_and_channel_totals_prefer_the_curve_base():
    curve = {"points": [{"threshold": 0.3}, {"threshold": -0.1}, {"threshold": 0.2}],
             "base": {"widths": {"bn1": 8, "bn2": "16"}}}
    assert [p["threshold"] for p in ordered_points(curve)] == [-0.1, 0.2, 0.3] and ordered_points({}) == []
    layers = [{"name": "bn1", "size": 4}]
    assert channel_totals(curve, layers) == {"bn1": 8, "bn2": 16}
    assert channel_totals({"points": []}, layers) == {"bn1": 4}


def test_ratio_is_none_when_a_side_is_missing_or_zero():
    assert ratio(3, 4) == 0.75 and ratio("1", "2") == 0.5
    assert ratio(3, 0) is None and ratio(None, 4) is None and ratio(3, None) is None and ratio("x", 2) is None


def test_groups_at_a_point_count_what_it_removes_in_model_order():
    from slimcore.pruning.points import groups_at

    curve = {"groups": [{"name": "a", "width": 8, "bns": ["bn_a"], "ties": ["a plain chain: one conv"], "layers": []},
                        {"name": "b", "width": 4, "bns": ["bn_b", "bn_c"], "ties": ["a residual stream: 2 adds"],
                         "layers": []}]}
    got = groups_at(curve, {"widths": {"bn_a": 7, "bn_b": 1, "bn_c": 1}})
    assert [(g["name"], g["kept"], g["removed"]) for g in got] == [("a", 7, 1), ("b", 1, 3)]
    assert got[1]["label"] == "b · 4 channels · a residual stream"
    assert groups_at({}, {"widths": {}}) == []
