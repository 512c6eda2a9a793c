"""The accuracy/FLOPs trade-off curve and single points (`slimcore.pruning.curve`) on a run trained for two epochs on
the tiny digits set: computed once, served from the store, every point the committed model's figures."""
from __future__ import annotations

import math

import pytest

from slimcore.errors import StoreError, Stopped
from slimcore.pruning import get_curve, preview_at, stored_curve
from slimcore.pruning.curve import artifact_name
from slimcore.pruning.settings import CurveSettings
from slimcore.pruning.trained import load_trained


@pytest.fixture
def trained(digits_run):
    """(store, run id) of slimnet trained 2 epochs on digits with an ℓ1 penalty on γ (the session's shared run)."""
    return digits_run


def test_curve_has_base_and_points_and_is_served_from_the_store(trained):
    store, run_id = trained
    calls = []
    curve = get_curve(store, run_id, "bn", progress=lambda d, t, m: calls.append((d, t)), recompute=True)
    assert len(curve["points"]) == 50 and calls[-1] == (51, 51) and not curve["cached"]
    base = curve["base"]
    assert base["flops"] == 2 * base["macs"] and base["threshold"] is None and base["flops_ratio"] == 1.0
    assert base["widths"] == dict(load_trained(store, run_id).structure.bn_sizes)
    for p in curve["points"]:
        assert set(p) >= {"threshold", "macs", "flops", "params", "accuracy", "widths", "clamped"}
        assert p["flops"] == 2 * p["macs"] <= base["flops"] and 0 <= p["accuracy"] <= 1
        assert min(p["widths"].values()) >= 1
        assert p["flops_ratio"] <= p["target_flops_ratio"] or p["clamped"]
    flops = [p["flops"] for p in curve["points"]]
    assert flops == sorted(flops, reverse=True) and curve["points"][-1]["clamped"]
    assert store.artifact(run_id, "curve-bn-p50-m1") is not None

    calls.clear()
    again = get_curve(store, run_id, "bn", progress=lambda d, t, m: calls.append(d))
    assert again["cached"] and not calls and again["points"] == curve["points"]


def test_preview_at_a_curve_threshold_is_that_point(trained):
    store, run_id = trained
    curve = get_curve(store, run_id, "bn")
    point = curve["points"][10]
    exact = preview_at(store, run_id, "bn", threshold=point["threshold"])
    for key in ("macs", "flops", "params", "accuracy", "widths", "clamped"):
        assert exact[key] == point[key], key


def test_preview_at_flops_ratio_meets_the_budget(trained):
    store, run_id = trained
    point = preview_at(store, run_id, "l1norm", flops_ratio=0.5)
    assert point["flops_ratio"] <= 0.5 and point["target_flops_ratio"] == 0.5
    assert preview_at(store, run_id, "bn", flops_ratio=1.0)["removed_channels"] == 0


def test_threshold_that_prunes_everything_is_clamped(trained):
    store, run_id = trained
    point = preview_at(store, run_id, threshold=math.inf, min_channels=3)
    assert point["clamped"] and min(point["widths"].values()) == 3


def test_unknown_run_fails_with_store_error(trained):
    store, _ = trained
    with pytest.raises(StoreError):
        get_curve(store, "no-such-run")


def test_a_stopped_curve_stores_nothing(trained):
    store, run_id = trained
    settings = CurveSettings(points=3, min_channels=2)
    with pytest.raises(Stopped, match="^the curve was stopped after 0 of 3 points; nothing was stored.$"):
        get_curve(store, run_id, "bn", points=3, min_channels=2, recompute=True, should_stop=lambda: True)
    assert store.artifact(run_id, artifact_name(settings)) is None and stored_curve(store, run_id, settings) is None


def test_a_stored_curve_that_no_longer_fits_or_reads_is_computed_again(trained):
    store, run_id = trained
    settings = CurveSettings(points=2, min_channels=3)
    first = get_curve(store, run_id, "bn", points=2, min_channels=3, recompute=True)
    assert stored_curve(store, run_id, settings)["points"] == first["points"]
    art = store.artifact(run_id, artifact_name(settings))
    store.put_artifact(run_id, art["name"], "curve", art["path"], {"key": {**art["meta"]["key"], "step": -1}})
    assert stored_curve(store, run_id, settings) is None  # made from another checkpoint: a miss
    again = get_curve(store, run_id, "bn", points=2, min_channels=3)
    assert not again["cached"] and again["points"] == first["points"]
    with open(art["path"], "w") as f:
        f.write("{half a file")
    assert stored_curve(store, run_id, settings) is None  # unreadable: a miss, not an error
    assert not get_curve(store, run_id, "bn", points=2, min_channels=3)["cached"]


def test_every_point_records_the_target_it_was_selected_for_and_the_scores_it_ranked(trained):
    store, run_id = trained
    curve = get_curve(store, run_id, "bn", points=4, recompute=True)
    assert [p["target_flops_ratio"] for p in curve["points"]] == [0.75, 0.5, 0.25, 0.0]
    groups = load_trained(store, run_id).structure.groups
    assert len(curve["channel_scores"]) == sum(g.width for g in groups)
    assert (curve["score_min"], curve["score_max"]) == (min(curve["channel_scores"]), max(curve["channel_scores"]))
    assert curve["split"] == "val" and curve["ranking"] == "bn" and curve["min_channels"] == 1


def test_a_curve_under_rules_is_another_curve_and_every_point_keeps_the_rules(trained):
    from slimcore.pruning.math.rules import LayerRules

    store, run_id = trained
    rules = LayerRules(locked=("features.0",), max_removed={"features.12": 0.25}, round_to=16)
    curve = get_curve(store, run_id, "bn", points=3, recompute=True, rules=rules)
    plain = CurveSettings(points=3)
    ruled = CurveSettings(points=3, rules=rules)
    assert artifact_name(ruled).startswith(artifact_name(plain) + "-r") and curve["rules"] == rules.to_dict()
    assert stored_curve(store, run_id, ruled)["points"] == curve["points"]
    assert (stored_curve(store, run_id, plain) or {}).get("rules") in (None, LayerRules().to_dict())
    full = load_trained(store, run_id).structure.bn_sizes
    for p in [*curve["points"], preview_at(store, run_id, flops_ratio=0.5, rules=rules)]:
        w = p["widths"]
        assert w["features.1"] == full["features.1"] and w["features.12"] >= 0.75 * full["features.12"]
        assert all(v % 16 == 0 or v == full[k] for k, v in w.items())
    assert preview_at(store, run_id, threshold=0.05)["rules"] == LayerRules().to_dict()
    point = preview_at(store, run_id, threshold=0.05, rules=rules)
    assert point["rules"] == rules.to_dict() and point["widths"]["features.1"] == full["features.1"]


@pytest.fixture(scope="module")
def many_exact_zeros(tmp_path_factory):
    """(store, run id): slimnet on the digits with proximal Tℓ1 strong enough that about half the γ are exactly 0."""
    from slimcore import jobs
    from slimcore.config import TrainConfig
    from slimcore.store import RunStore

    store = RunStore(tmp_path_factory.mktemp("ties") / "runs")
    run_id = jobs.create_run(store, TrainConfig(model="slimnet", dataset="digits", lam=0.03, epochs=4))
    assert jobs.run_training(store, run_id, stop_flag={"requested": False})[0] == "finished"
    return store, run_id


def test_a_curve_over_tied_exact_zeros_has_points_between_100_percent_and_the_first_cut(many_exact_zeros):
    from slimcore.pruning import get_curve

    store, run_id = many_exact_zeros
    zeros = store.get_run(run_id)["summary"]["sparsity@0"]
    assert zeros > 0.4  # the tie: a block of exact zeros a plain threshold removes all at once
    curve = get_curve(store, run_id, ranking="bn", points=8)
    exact = [p for p in curve["points"] if p["threshold"] < 1e-30]  # points inside the block of zeros
    assert len(exact) >= 3
    assert max(p["flops_ratio"] for p in exact) < 0.95 and min(p["flops_ratio"] for p in exact) < 0.5
    for p in exact:  # each removes only γ = 0 channels: the function is kept
        assert p["accuracy"] == curve["base"]["accuracy"] and p["output_change"] < 1e-5
