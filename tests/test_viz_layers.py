"""Per-layer width bars (`slimcore.viz.layers`): kept and removed channels stacked to each layer's total."""
from __future__ import annotations

from slimcore.viz import layer_widths

from conftest import valid_figure as valid


def test_layer_widths_stacks_kept_and_removed_to_the_total():
    fig = valid(layer_widths({"a": 2, "b": 1}, {"a": 3, "b": 5}))
    kept, removed = fig.data
    assert list(kept.x) == ["a", "b"] and list(kept.y) == [2, 1] and list(removed.y) == [1, 4]
    assert fig.layout.barmode == "stack"
    assert list(valid(layer_widths({}, {"a": 3})).data[1].y) == [0]  # a layer missing from widths is kept whole


def test_each_bar_is_labelled_with_the_share_kept_and_a_layer_of_width_zero_has_none():
    fig = valid(layer_widths({"a": 1, "b": 0}, {"a": 4, "b": 0}))
    assert list(fig.data[0].customdata) == ["25% kept", ""] and list(fig.data[1].y) == [3, 0]
    assert fig.layout.yaxis.range == (0, 4 * 1.05)
