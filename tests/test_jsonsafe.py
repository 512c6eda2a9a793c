"""Strict JSON (`slimcore.jsonsafe`): every non-finite float at any depth becomes null; nothing else changes."""
from __future__ import annotations

import json
import math

from slimcore.jsonsafe import json_safe


def test_non_finite_floats_become_none_at_any_depth_and_tuples_become_lists():
    value = {"a": math.nan, "b": [1.0, math.inf, (-math.inf, 2)], "c": {"d": {"e": math.nan}}, "f": "nan", "g": None}
    assert json_safe(value) == {"a": None, "b": [1.0, None, [None, 2]], "c": {"d": {"e": None}}, "f": "nan", "g": None}
    json.dumps(json_safe(value), allow_nan=False)  # strict JSON now


def test_finite_values_and_other_types_are_returned_as_they_are():
    marker = object()
    for v in (0.0, -1.5, 10**20, True, "text", marker):
        assert json_safe(v) is v
    assert json_safe([]) == [] and json_safe({}) == {}
