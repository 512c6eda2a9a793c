"""Latency as an axis: every curve point timed, the estimate between timed points and its error, the point a
latency target picks."""
from __future__ import annotations

import json

import pytest

from slimcore.errors import ConfigError, StoreError
from slimcore.pruning.latency_curve import (LatencySettings, estimate_error, estimate_latency, point_for_latency,
                                            stored_latency, time_curve, with_latency)


def _timings(rows):
    """A timings record: (flops_ratio, threshold, ms) rows, the first the unpruned model."""
    def row(r):
        return {"flops_ratio": r[0], "threshold": r[1], "latency_ms": {"torch-cpu": {"batch1": r[2]}},
                "spread_ms": {"torch-cpu": {"batch1": 0.1}}}
    return {"backends": ["torch-cpu"], "base": row(rows[0]), "points": [row(r) for r in rows[1:]]}


TIMED = _timings([(1.0, None, 10.0), (0.75, 0.1, 8.0), (0.5, 0.2, 5.0), (0.25, 0.3, 4.0)])


def test_the_estimate_interpolates_along_flops_and_its_error_leaves_each_point_out():
    assert estimate_latency(TIMED, 0.625, "torch-cpu") == pytest.approx(6.5)
    assert estimate_latency(TIMED, 1.0, "torch-cpu") == 10.0
    err = estimate_error(TIMED, "torch-cpu")
    # leave 0.75 out: 7.5 vs 8 → 1/16; leave 0.5 out: 6 vs 5 → 1/5
    assert err == {"points": 2, "median_rel": pytest.approx((0.0625 + 0.2) / 2, abs=1e-4), "max_rel": 0.2}
    with pytest.raises(ConfigError, match="no timings on backend 'onnxruntime'"):
        estimate_latency(TIMED, 0.5, "onnxruntime")


def test_a_latency_target_picks_the_largest_timed_model_under_it():
    assert point_for_latency(TIMED, 6.0, "torch-cpu")["flops_ratio"] == 0.5
    assert point_for_latency(TIMED, 8.0, "torch-cpu")["flops_ratio"] == 0.75
    assert point_for_latency(TIMED, 50.0, "torch-cpu")["threshold"] is None  # the unpruned model is fast enough
    with pytest.raises(StoreError, match="the fastest takes 4 ms"):
        point_for_latency(TIMED, 3.0, "torch-cpu")
    with pytest.raises(ConfigError, match="positive number"):
        point_for_latency(TIMED, -1.0, "torch-cpu")


def test_settings_are_validated():
    with pytest.raises(ConfigError, match="unknown latency backend"):
        LatencySettings(backends=("gpu",))
    with pytest.raises(ConfigError, match="repeats must be"):
        LatencySettings(repeats=1)
    s = LatencySettings(batch=8, backends=("torch-cpu",))
    assert LatencySettings.from_dict(s.to_dict()) == s and s.batch_keys() == ("batch1", "batch8")
    assert LatencySettings(batch=1, backends=("torch-cpu",)).batch_keys() == ("batch1",)


def test_every_curve_point_is_timed_stored_and_merged_into_the_curve(digits_run):
    from slimcore.pruning import get_curve

    store, run_id = digits_run
    settings = LatencySettings(points=3, backends=("torch-cpu",), batch=4, repeats=3)
    seen = []
    result = time_curve(store, run_id, settings, lambda done, total, text: seen.append(done))
    curve = get_curve(store, run_id, points=3)
    assert [p["threshold"] for p in result["points"]] == [p["threshold"] for p in curve["points"]]
    assert seen[-(len(curve["points"]) + 1):] == list(range(1, len(curve["points"]) + 2))  # after the curve's own
    assert all(set(p["latency_ms"]["torch-cpu"]) == {"batch1", "batch4"} for p in result["points"])
    assert stored_latency(store, run_id, settings) == result
    merged = with_latency(curve, result)
    assert all("latency_ms" in p for p in merged["points"]) and "latency_ms" in merged["base"]
    assert stored_latency(store, run_id, LatencySettings(points=3, backends=("torch-cpu",), batch=8, repeats=3)) is None


def test_a_curve_under_rules_gets_its_own_timings_each_point_cut_under_the_rules(digits_run, monkeypatch):
    import slimcore.analysis.structure as structure_module
    from slimcore.pruning import get_curve
    from slimcore.pruning.latency_curve import any_stored_latency, artifact_name
    from slimcore.pruning.math.rules import LayerRules
    from slimcore.pruning.trained import load_trained

    store, run_id = digits_run
    groups = load_trained(store, run_id).structure.groups
    locked = groups[0]
    rules = LayerRules(locked=(locked.name,))
    plans = []
    real = structure_module.pruned_model
    monkeypatch.setattr(structure_module, "pruned_model",
                        lambda model, structure, plan, *a, **k: plans.append(plan) or real(model, structure, plan, *a, **k))
    plain = LatencySettings(points=3, backends=("torch-cpu",), batch=1, repeats=3)
    ruled = LatencySettings(points=3, backends=("torch-cpu",), batch=1, repeats=3, rules=rules)
    assert artifact_name(ruled) != artifact_name(plain) and artifact_name(ruled).startswith(artifact_name(plain) + "-r")
    result = time_curve(store, run_id, ruled)
    curve = get_curve(store, run_id, points=3, rules=rules)
    assert [p["threshold"] for p in result["points"]] == [p["threshold"] for p in curve["points"]]
    assert len(plans) == len(curve["points"]) + 1 and all(not plan[0] for plan in plans)  # the locked group: uncut
    assert any(any(len(r) for r in plan[1:]) for plan in plans)  # and the others were cut
    assert result["rules"] == rules.to_dict()
    assert stored_latency(store, run_id, ruled) == result
    assert any_stored_latency(store, run_id, "bn", 3, 1, rules) == result
    assert any_stored_latency(store, run_id, "bn", None, 1, rules) == result
    plain_found = any_stored_latency(store, run_id, "bn", 3, 1)
    assert plain_found is None or plain_found["rules"] in (None, LayerRules().to_dict())
    assert stored_latency(store, run_id, LatencySettings(points=3, backends=("torch-cpu",), batch=1, repeats=3,
                                                         rules=LayerRules(locked=(groups[1].name,)))) is None


def test_latency_settings_keep_their_rules_through_json():
    from slimcore.pruning.math.rules import LayerRules

    s = LatencySettings(backends=("torch-cpu",), rules=LayerRules(locked=("a",), round_to=4))
    assert LatencySettings.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    with pytest.raises(ConfigError, match="round-to"):
        LatencySettings(rules={"round_to": 0})


def test_many_estimates_at_once_are_the_single_estimates_and_the_nodes_are_the_timed_points():
    from slimcore.pruning.latency_curve import estimate_latencies, latency_series

    shares = [1.0, 0.9, 0.625, 0.3, 0.1]
    assert estimate_latencies(TIMED, shares, "torch-cpu").tolist() == [estimate_latency(TIMED, s, "torch-cpu")
                                                                        for s in shares]
    assert latency_series(TIMED, "torch-cpu") == [[0.25, 4.0], [0.5, 5.0], [0.75, 8.0], [1.0, 10.0]]


def test_the_position_for_a_latency_is_the_slowest_at_or_below_it():
    from slimcore.pruning.latency_curve import position_at_or_below

    ms = [10.0, 8.0, 8.0, 5.0, 6.0, 4.0]  # measurements need not fall as the model shrinks
    assert position_at_or_below(ms, 8.0) == (1, True)  # the larger model of the tie
    assert position_at_or_below(ms, 7.0) == (4, True)
    assert position_at_or_below(ms, 100.0) == (0, True)
    assert position_at_or_below(ms, 1.0) == (5, False)  # none is that fast: the fastest
