"""Per-layer rules (`slimcore.pruning.math.rules`): checked when built, resolved against a model's groups by group or
BN layer name, rounded widths, and the laws `select` / `select_flops` keep under them (property tests)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slimcore.errors import ConfigError
from slimcore.pruning.math.plan import candidate_thresholds, select, select_flops
from slimcore.pruning.math.rules import GroupLimits, LayerRules, limits_for, rounded_width

NAMES = [["conv_a", "bn_a"], ["conv_b", "bn_b", "bn_b2"], ["conv_c", "bn_c"]]
WIDTHS = [16, 24, 10]


def test_rules_resolve_by_group_or_bn_name_to_the_fewest_channels_kept():
    rules = LayerRules(locked=("bn_a",), max_removed={"bn_b2": 0.5}, min_width={"conv_c": 4, "bn_b": 14}, round_to=8)
    limits = rules.resolve(NAMES, WIDTHS)
    # locked: full width; bn_b2 is in group b: at most 12 of 24 removed, and its own minimum 14 is stricter
    assert limits == GroupLimits((16, 14, 4), 8)
    assert LayerRules(max_removed={"conv_c": 0.35}).resolve(NAMES, WIDTHS).min_kept == (0, 0, 7)  # ⌊3.5⌋ = 3 removed
    assert LayerRules(min_width={"conv_c": 99}).resolve(NAMES, WIDTHS).min_kept == (0, 0, 10)  # capped at the width


def test_an_unknown_name_is_one_error_listing_every_group_and_its_bn_layers():
    with pytest.raises(ConfigError) as e:
        LayerRules(max_removed={"conv_z": 0.5}).resolve(NAMES, WIDTHS)
    assert str(e.value) == ("--max-removed conv_z: no channel group or BN layer of that name; valid: group (its BN "
                            "layers): conv_a (bn_a), conv_b (bn_b, bn_b2), conv_c (bn_c).")


@pytest.mark.parametrize("kwargs, message", [
    ({"max_removed": {"a": 1.0}}, "--max-removed a: the share of channels it may lose must be a number in [0, 1)"),
    ({"max_removed": {"a": -0.1}}, "in [0, 1)"),
    ({"max_removed": {"a": "half"}}, "got 'half'"),
    ({"min_width": {"a": 0}}, "--min-width a: the channels it keeps at least must be an integer >= 1, got 0."),
    ({"min_width": {"a": 2.5}}, "integer >= 1, got 2.5"),
    ({"round_to": 0}, "--round-to must be an integer in 1..4096"),
    ({"round_to": True}, "--round-to must be an integer"),
    ({"locked": ("",)}, "--lock needs a group or BN layer name"),
    ({"locked": 3}, "locked must be a list"),
    ({"min_width": [("a", 2)]}, "min_width must map"),
])
def test_bad_rules_are_one_error_naming_the_flag(kwargs, message):
    with pytest.raises(ConfigError) as e:
        LayerRules(**kwargs)
    assert message in str(e.value)


def test_rules_survive_json_and_hash_by_what_they_say():
    rules = LayerRules(locked=["b", "a", "a"], max_removed={"x": 0.25}, min_width={"y": 3}, round_to=16)
    assert rules.locked == ("a", "b")
    again = LayerRules.from_dict(json.loads(json.dumps(rules.to_dict())))
    assert again == rules and hash(again) == hash(rules) and not rules.empty and LayerRules().empty
    with pytest.raises(ConfigError, match="unknown layer rule.s. lock; valid"):
        LayerRules.from_dict({"lock": ["a"]})
    with pytest.raises(ConfigError, match="must be a JSON object"):
        LayerRules.from_dict(["a"])


def test_limits_for_no_rules_is_none():
    class G:
        def __init__(self, name, bns, width):
            self.name, self.bns, self.width = name, bns, width

    groups = [G(n[0], n[1:], w) for n, w in zip(NAMES, WIDTHS)]
    assert limits_for(None, groups) is None and limits_for(LayerRules(), groups) is None
    assert limits_for(LayerRules(locked=("bn_c",)), groups).min_kept == (0, 0, 10)


@pytest.mark.parametrize("kept, width, n, want", [(1, 16, 8, 8), (8, 16, 8, 8), (9, 16, 8, 16), (9, 10, 8, 10),
                                                   (3, 10, 1, 3), (0, 5, 4, 0)])
def test_rounded_width_rounds_up_and_caps_at_the_full_group(kept, width, n, want):
    assert rounded_width(kept, width, n) == want


# -- the laws select keeps under rules ------------------------------------------------------------------------
scores_st = st.lists(st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=40).map(np.array),
                     min_size=1, max_size=5)


@st.composite
def scores_and_rules(draw):
    scores = draw(scores_st)
    n = len(scores)
    names = [[f"g{i}", f"bn{i}"] for i in range(n)]
    pick = st.sampled_from([a for pair in names for a in pair])
    rules = LayerRules(locked=tuple(draw(st.lists(pick, max_size=2))),
                       max_removed=draw(st.dictionaries(pick, st.floats(0, 0.99), max_size=2)),
                       min_width=draw(st.dictionaries(pick, st.integers(1, 50), max_size=2)),
                       round_to=draw(st.sampled_from([1, 2, 4, 8, 16])))
    return scores, names, rules


def group_of(names, name):
    return next(i for i, aliases in enumerate(names) if name in aliases)


def check_rules_hold(scores, names, rules, plan, min_channels):
    for i, (s, removed) in enumerate(zip(scores, plan)):
        n, kept = len(s), len(s) - len(removed)
        aliases = set(names[i])
        assert kept >= min(min_channels, n)
        if aliases & set(rules.locked):
            assert removed == ()
        for name, share in rules.max_removed.items():
            if name in aliases:
                assert len(removed) <= share * n + 1e-9
        for name, width in rules.min_width.items():
            if name in aliases:
                assert kept >= min(width, n)
        assert kept % rules.round_to == 0 or kept == n
        if removed:  # the kept channels are the best-scored ones
            assert max(s[list(removed)]) <= min(np.delete(s, list(removed)))


@settings(max_examples=150, deadline=None)
@given(scores_and_rules(), st.floats(-0.5, 1.5), st.integers(1, 4))
def test_no_threshold_breaks_a_rule(drawn, threshold, min_channels):
    scores, names, rules = drawn
    limits = rules.resolve(names, [len(s) for s in scores])
    check_rules_hold(scores, names, rules, select(scores, threshold, min_channels, limits).plan, min_channels)


@settings(max_examples=100, deadline=None)
@given(scores_and_rules(), st.floats(0.01, 1.0))
def test_no_flops_budget_breaks_a_rule_and_the_budget_is_the_lowest_threshold_meeting_it(drawn, ratio):
    scores, names, rules = drawn
    limits = rules.resolve(names, [len(s) for s in scores])

    def macs(plan):  # a chain: layer i costs width[i-1]·width[i]
        w = [len(s) - len(r) for s, r in zip(scores, plan)]
        return sum(a * b for a, b in zip([3] + w[:-1], w))

    sel = select_flops(scores, ratio, macs, 1, limits)
    check_rules_hold(scores, names, rules, sel.plan, 1)
    base = macs(tuple(() for _ in scores))
    cands = candidate_thresholds(scores)
    i = int(np.searchsorted(cands, sel.threshold))
    if macs(sel.plan) <= ratio * base:
        assert i == 0 or macs(select(scores, float(cands[i - 1]), 1, limits).plan) > ratio * base
    else:
        assert sel.clamped


@settings(max_examples=60, deadline=None)
@given(scores_and_rules(), st.floats(-0.5, 1.5), st.floats(0, 0.5))
def test_plans_stay_nested_under_rules(drawn, t, dt):
    scores, names, rules = drawn
    limits = rules.resolve(names, [len(s) for s in scores])
    for a, b in zip(select(scores, t, 1, limits).plan, select(scores, t + dt, 1, limits).plan):
        assert set(a) <= set(b)


def test_without_rules_select_is_unchanged():
    scores = [np.array([0.1, 0.5, 0.3]), np.array([0.3, 0.2])]
    none = GroupLimits((0, 0), 1)
    assert select(scores, 0.35, 1, none) == select(scores, 0.35, 1) == select(scores, 0.35)
