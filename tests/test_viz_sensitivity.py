"""The sensitivity heatmap: its cells are `accuracy_drops`, its marks `removed_shares`."""
from __future__ import annotations

import numpy as np

from conftest import valid_figure
from slimcore.pruning.math.rules import LayerRules
from slimcore.pruning.sensitivity import accuracy_drops, removed_shares
from slimcore.viz.sensitivity import sensitivity_heatmap

SCAN = {"base_accuracy": 0.9, "shares": [0.25, 0.5, 0.75], "groups": [
    {"name": "a", "bns": ["bn_a"], "width": 4, "scores": [0.1, 0.2, 0.3, 0.4],
     "points": [{"accuracy": 0.9}, {"accuracy": 0.85}, {"accuracy": 0.5}]},
    {"name": "b", "bns": ["bn_b"], "width": 2, "scores": [0.05, 0.6],
     "points": [{"accuracy": 0.91}, {"accuracy": 0.6}, {"accuracy": 0.6}]}]}


def test_the_cells_are_the_accuracy_drops_and_the_marks_the_thresholds_cut_per_group():
    drops = accuracy_drops(SCAN)
    removed = removed_shares(SCAN, 0.25, rules=LayerRules(locked=("b",)))
    assert removed == [0.5, 0.0]
    fig = valid_figure(sensitivity_heatmap(drops, removed))
    heat, marks = fig.data
    assert list(heat.y) == ["a", "b"] and list(heat.x) == [0.25, 0.5, 0.75]
    assert np.allclose(np.asarray(heat.z), drops["drops"])
    assert heat.zmin == -heat.zmax and heat.zmax == max(abs(v) for row in drops["drops"] for v in row)
    assert list(marks.x) == removed and list(marks.y) == ["a", "b"] and marks.name == "this threshold removes"
    assert fig.layout.yaxis.autorange == "reversed"  # model order, top to bottom


def test_without_a_threshold_there_are_no_marks():
    fig = valid_figure(sensitivity_heatmap(accuracy_drops(SCAN)))
    assert len(fig.data) == 1 and fig.layout.showlegend is False
