"""Shared look of the figures (`slimcore.viz.theme`): the fast builders skip plotly's validation, so the tests must
validate; reference lines are shapes with their labels."""
from __future__ import annotations

import pytest

from slimcore.viz.theme import base_layout, fast_figure, hline, vline

from conftest import valid_figure as valid


def test_the_fast_figures_are_still_checked_by_the_tests():
    from slimcore.viz.theme import fast_figure

    with pytest.raises(ValueError):
        valid(fast_figure([{"type": "bar", "colour": "red"}], {}))


def test_a_layout_without_a_title_leaves_no_room_for_one():
    assert base_layout("γ")["margin"]["t"] == 60 and base_layout("")["margin"]["t"] == 20
    assert base_layout("", height=500)["height"] == 500


def test_reference_lines_span_the_plot_at_their_data_coordinate():
    shape, note = vline(0.3, "threshold", "red", left=True)
    assert (shape["x0"], shape["x1"], shape["y0"], shape["y1"], shape["yref"]) == (0.3, 0.3, 0, 1, "paper")
    assert (note["x"], note["text"], note["xanchor"]) == (0.3, "threshold", "right")
    shape, note = hline(0.9, "unpruned")
    assert (shape["y0"], shape["y1"], shape["x0"], shape["x1"], shape["xref"]) == (0.9, 0.9, 0, 1, "paper")
    fig = valid(fast_figure([], {"shapes": [shape], "annotations": [note]}))
    assert fig.layout.annotations[0].text == "unpruned"
