"""The browser preview's payload (`slimcore.pruning.browser_preview`): floats carried bit for bit, one slider position
per distinct plan (the tied denormal block near 0 included), and FLOPs, parameters and widths computed from the
payload alone equal to the really pruned model's and to `slimcore preview --threshold T --json`."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

from slimcore.pruning.browser_preview import (PayloadPreview, build_payload, decode_f64, encode_f64, keep_counts,
                                              payload_for, slider_thresholds)
from slimcore.pruning.math.plan import candidate_thresholds, select
from slimcore.pruning.math.rules import GroupLimits, LayerRules

TIED = [np.array([0.0, 5e-324, 1e-323, 0.3, 0.2]), np.array([1.5e-323, 2e-323, 0.25]), np.array([0.1, 0.7])]


def test_floats_travel_bit_for_bit_where_json_would_need_care():
    values = np.array([0.0, -0.0, 5e-324, 1e-323, np.nextafter(0.3, 1), 1e308, -2.5])
    back = decode_f64(json.loads(json.dumps(encode_f64(values))))
    assert back.tobytes() == values.tobytes()  # bits, so -0.0 and the denormals survive
    # json itself round-trips every float through its repr (the curve's stored thresholds rely on it)
    assert json.loads(json.dumps(values.tolist())) == values.tolist()


@pytest.mark.parametrize("min_channels, limits", [(1, None), (2, None), (1, GroupLimits((0, 2, 0), round_to=2))])
def test_every_distinct_plan_is_one_slider_position(min_channels, limits):
    positions = slider_thresholds(TIED, min_channels, limits)
    plans = [select(TIED, float(t), min_channels, limits).plan for t in positions]
    assert len(set(plans)) == len(plans), "two positions give the same plan"
    everything = {select(TIED, float(t), min_channels, limits).plan for t in candidate_thresholds(TIED)}
    assert set(plans) == everything, "a plan no position reaches"
    assert plans[0] == ((), (), ()) and plans[-1] == select(TIED, np.inf, min_channels, limits).plan
    # the denormal block is walked one channel at a time
    if limits is None and min_channels == 1:
        assert [sum(map(len, p)) for p in plans[:6]] == [0, 1, 2, 3, 4, 5]
    # each is the first candidate (a score, as `select_flops` and the curve report them) of its plan: the candidate
    # before it gives the previous plan
    candidates = candidate_thresholds(TIED).tolist()
    for k in range(1, len(positions)):
        before = candidates[candidates.index(positions[k]) - 1]
        assert select(TIED, before, min_channels, limits).plan == plans[k - 1]


def test_keep_counts_is_select_vectorised():
    limits = GroupLimits((3, 0, 2), round_to=2)
    thresholds = np.r_[candidate_thresholds(TIED), -1.0, np.inf]
    keeps = keep_counts(TIED, thresholds, 1, limits)
    for t, row in zip(thresholds, keeps):
        plan = select(TIED, float(t), 1, limits).plan
        assert tuple(row) == tuple(len(s) - len(r) for s, r in zip(TIED, plan))


def _check_against_the_pruned_model(trained, scores, payload, thresholds) -> None:
    from slimcore.analysis.structure import pruned_model

    preview, st = PayloadPreview(json.loads(json.dumps(payload))), trained.structure  # as the browser receives it
    for t in thresholds:
        plan = select(scores, float(t), payload["min_channels"], None).plan
        model = pruned_model(trained.model, st, plan, trained.compensation)
        got = preview.numbers_at(float(t))
        assert got["params"] == sum(p.numel() for p in model.parameters()), t
        assert got["flops"] == 2 * st.macs(plan) and got["widths"] == st.widths(plan), t


def _random_thresholds(payload, rng, n: int) -> list[float]:
    positions = decode_f64(payload["thresholds"])
    flat = np.concatenate([decode_f64(g["scores"]) for g in payload["groups"]])
    return [float(v) for v in np.r_[rng.choice(positions, n - n // 4), rng.uniform(flat.min(), flat.max(), n // 4)]]


@pytest.mark.parametrize("which", ["slimnet", "resnet20"])
def test_the_payloads_figures_are_the_pruned_models_at_random_thresholds(which, digits_run, resnet20_digits_run,
                                                                         one_thread):
    from slimcore.pruning.scoring import ranking_scores
    from slimcore.pruning.trained import load_trained

    store, run_id = digits_run if which == "slimnet" else resnet20_digits_run
    trained = load_trained(store, run_id)
    scores, _ = ranking_scores(store, trained, "bn")
    payload = payload_for(store, run_id, "bn")
    assert payload["fixed_params"] == 0, "every parameter of the zoo model is in the closed form"
    _check_against_the_pruned_model(trained, scores, payload, _random_thresholds(payload, np.random.default_rng(1), 40))


def test_tied_zero_gammas_are_counted_exactly_in_the_denormal_block(digits_run, one_thread):
    """A proximal run leaves many γ exactly 0: tie-broken, their scores are k·5e-324 apart."""
    from slimcore.pruning.math.rankings import beta_sizes, bn_scores
    from slimcore.pruning.math.ties import break_ties
    from slimcore.pruning.trained import load_trained

    store, run_id = digits_run
    trained = copy.copy(load_trained(store, run_id))
    model = copy.deepcopy(trained.model)
    rng = np.random.default_rng(2)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight[torch.as_tensor(rng.random(m.num_features) < 0.4)] = 0.0
    object.__setattr__(trained, "model", model)
    trained.__dict__.pop("compensation", None)
    groups = trained.structure.groups
    scores = break_ties(bn_scores(model, groups), beta_sizes(model, groups))
    payload = build_payload(trained.structure, model, scores)
    positions = decode_f64(payload["thresholds"])
    tied = positions[positions < 1e-300]
    assert len(tied) > 20 and tied[1] == 5e-324, "the zero block is walked channel by channel"
    _check_against_the_pruned_model(trained, scores, payload, list(rng.choice(tied, 12)) + [1e-30, 0.0])


def test_rules_in_force_are_part_of_the_payload(resnet20_digits_run):
    store, run_id = resnet20_digits_run
    rules = LayerRules(locked=("bn1",), min_width={"layer1.0.bn1": 12}, round_to=4)
    payload = payload_for(store, run_id, "bn", min_channels=2, rules=rules)
    preview = PayloadPreview(payload)
    assert payload["rules"] == rules.to_dict() and payload["round_to"] == 4
    from slimcore.pruning.scoring import ranking_scores, selection_for
    from slimcore.pruning.trained import load_trained

    trained = load_trained(store, run_id)
    scores, _ = ranking_scores(store, trained, "bn")
    for t in _random_thresholds(payload, np.random.default_rng(3), 20) + [np.inf]:
        sel = selection_for(trained, scores, t, None, 2, rules)
        got = preview.numbers_at(t)
        assert got["widths"] == trained.structure.widths(sel.plan) and got["clamped"] == sel.clamped
        assert all(w % 4 == 0 or w == trained.structure.bn_sizes[bn] for bn, w in got["widths"].items())


def test_positions_and_the_flops_box(digits_run):
    store, run_id = digits_run
    preview = PayloadPreview(payload_for(store, run_id, "bn"))
    positions = preview.thresholds
    for k in (0, 1, len(positions) // 2, len(positions) - 1):
        assert preview.position_of(positions[k]) == k
        if k:  # anything between two positions cuts the later one's plan or the earlier one's
            mid = float((positions[k - 1] + positions[k]) / 2)
            assert preview.numbers_at(mid)["keeps"] == preview.numbers_at(positions[preview.position_of(mid)])["keeps"]
    shares = preview.flops_shares()
    assert shares[0] == 1.0 and np.all(np.diff(shares) <= 0)
    assert preview.nearest_flops_position(1.0) == 0 and preview.nearest_flops_position(0.0) == len(positions) - 1
    k = preview.nearest_flops_position(0.5)
    assert abs(shares[k] - 0.5) == np.min(np.abs(shares - 0.5))


def test_curve_points_come_from_the_stored_curve_exactly(digits_run):
    from slimcore.pruning import get_curve

    store, run_id = digits_run
    curve = get_curve(store, run_id, "bn", points=8)
    payload = payload_for(store, run_id, "bn", curve=curve)
    wanted = sorted(curve["points"], key=lambda p: p["threshold"])
    assert decode_f64(payload["point_thresholds"]).tolist() == [p["threshold"] for p in wanted]
    assert payload["point_accuracy"] == [p["accuracy"] for p in wanted]
    assert payload["base_accuracy"] == curve["base"]["accuracy"]
    preview = PayloadPreview(payload)
    for p in wanted:  # the curve's own figures are the payload's at its thresholds
        got = preview.numbers_at(p["threshold"])
        assert (got["flops"], got["params"], got["widths"]) == (p["flops"], p["params"], p["widths"])


def test_the_payload_agrees_with_the_cli_preview(digits_run, capsys):
    from slimcore.cli.main import main

    store, run_id = digits_run
    preview = PayloadPreview(payload_for(store, run_id, "bn"))
    for t in (float(preview.thresholds[3]), 0.0, 5e-324, float(np.median(preview.thresholds)), 1e9):
        assert main(["preview", run_id, f"--threshold={t!r}", "--json", "--runs-dir", str(store.root)]) == 0
        out = json.loads(capsys.readouterr().out)
        got = preview.numbers_at(t)
        assert (out["flops"], out["params"], out["widths"]) == (got["flops"], got["params"], got["widths"]), t


def test_exact_at_is_preview_at_with_fewer_threads_and_restores_them(digits_run):
    from slimcore.pruning.browser_preview import exact_at
    from slimcore.pruning.curve import preview_at

    store, run_id = digits_run
    t = float(PayloadPreview(payload_for(store, run_id, "bn")).thresholds[5])
    before = torch.get_num_threads()
    got = exact_at(store, run_id, "bn", t, threads=1)
    assert torch.get_num_threads() == before
    assert got == preview_at(store, run_id, "bn", threshold=t)


def test_parameter_shares_and_latency_at_every_position(digits_run):
    from slimcore.pruning.browser_preview import latency_at_positions
    from slimcore.pruning.latency_curve import LatencySettings, estimate_latencies, time_curve

    store, run_id = digits_run
    preview = PayloadPreview(payload_for(store, run_id, "bn"))
    base = preview.numbers_at(float(preview.thresholds[0]))["params"]
    for i in (0, len(preview.thresholds) // 3, len(preview.thresholds) - 1):
        assert preview.params_shares()[i] == preview.numbers_at(float(preview.thresholds[i]))["params"] / base
    assert preview.params_shares()[0] == 1.0 and np.all(np.diff(preview.params_shares()) <= 0)
    timings = time_curve(store, run_id, LatencySettings(points=4, backends=("torch-cpu",), batch=1, repeats=3))
    ms = latency_at_positions(preview, timings, "torch-cpu")
    assert ms.shape == preview.thresholds.shape
    timed = {0: timings["base"]["latency_ms"]["torch-cpu"]["batch1"]}
    for row in timings["points"]:
        timed.setdefault(preview.position_of(row["threshold"]), row["latency_ms"]["torch-cpu"]["batch1"])
    assert all(ms[i] == v for i, v in timed.items())  # measured where timed
    others = [i for i in range(len(ms)) if i not in timed]
    assert np.allclose(ms[others], estimate_latencies(timings, preview.flops_shares()[others], "torch-cpu"))
