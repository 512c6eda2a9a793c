"""The Prune page's per-layer rules table (app_support.rules_form): rows from rules and rules from rows, errors in
the form's own words."""
from __future__ import annotations

import math

import pytest

from app_support.rules_form import describe, in_page_terms, rule_rows, rules_from_rows
from slimcore.errors import ConfigError
from slimcore.pruning.math.rules import LayerRules

GROUPS = [{"name": "conv1", "bns": ["bn1"], "width": 16}, {"name": "conv2", "bns": ["bn2", "bn3"], "width": 32}]


def test_rows_and_rules_round_trip_and_a_bn_alias_lands_on_its_group():
    rules = LayerRules(locked=("bn3",), max_removed={"conv1": 0.5}, min_width={"conv1": 4}, round_to=8)
    rows = rule_rows(GROUPS, rules)
    assert [r["group"] for r in rows] == ["conv1", "conv2"] and rows[1]["BN layers"] == "bn2, bn3"
    assert rows[1]["lock"] and not rows[0]["lock"]
    assert (rows[0]["max removed share"], rows[0]["min width"], rows[1]["min width"]) == (0.5, 4, None)
    back = rules_from_rows(rows, 8)
    assert back == LayerRules(locked=("conv2",), max_removed={"conv1": 0.5}, min_width={"conv1": 4}, round_to=8)
    assert rules_from_rows(rule_rows(GROUPS, LayerRules())) == LayerRules()


def test_blank_cells_are_no_rule_and_whole_floats_are_widths():
    rows = rule_rows(GROUPS, LayerRules())
    rows[0].update({"max removed share": math.nan, "min width": 8.0})
    assert rules_from_rows(rows) == LayerRules(min_width={"conv1": 8})


@pytest.mark.parametrize("cells, words", [({"max removed share": 1.0}, "max removed share of conv1"),
                                          ({"min width": 0}, "min width of conv1"),
                                          ({"min width": 2.5}, "min width of conv1")])
def test_a_bad_cell_is_a_config_error_in_the_forms_words(cells, words):
    rows = rule_rows(GROUPS, LayerRules())
    rows[0].update(cells)
    with pytest.raises(ConfigError) as e:
        rules_from_rows(rows)
    text = in_page_terms(str(e.value))
    assert words in text and "--" not in text


def test_the_line_says_what_is_in_force():
    assert "alone decides" in describe(LayerRules())
    line = describe(LayerRules(locked=("conv2",), max_removed={"conv1": 0.25}, round_to=8))
    assert "conv2 locked" in line and "conv1 loses at most 25%" in line and "multiple of 8" in line
