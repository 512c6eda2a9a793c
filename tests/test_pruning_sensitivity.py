"""The per-group sensitivity scan (`slimcore.pruning.sensitivity`) on the session's digits runs (slimnet and resnet20):
a job with progress, numbers equal to an independent cut-and-evaluate, stored and read back, nothing stored when
stopped; and the heatmap's data and the global threshold's per-group choice drawn over it."""
from __future__ import annotations

import numpy as np
import pytest

from slimcore import jobs
from slimcore.analysis.structure import pruned_model
from slimcore.pruning.curve import preview_at
from slimcore.pruning.math.plan import select
from slimcore.pruning.math.rules import LayerRules
from slimcore.pruning.scoring import ranking_scores
from slimcore.pruning.sensitivity import (accuracy_drops, artifact_name, removed_count, removed_shares,
                                          scan_sensitivity, single_group_selection, stored_sensitivity)
from slimcore.pruning.settings import SensitivitySettings
from slimcore.pruning.trained import load_trained
from slimcore.training.evaluate import evaluate


@pytest.mark.parametrize("share, width, want", [(0.1, 16, 1), (0.5, 16, 8), (0.9, 16, 14), (0.3, 10, 3),
                                                (0.9, 2, 1), (0.5, 1, 0), (0.05, 16, 0), (0.99, 10, 9)])
def test_a_share_removes_at_most_that_share_and_never_the_last_channel(share, width, want):
    assert removed_count(share, width) == want


def test_a_single_group_cut_removes_its_lowest_scores_and_breaks_ties_as_select_does():
    scores = [np.array([0.5, 0.1, 0.2]), np.array([0.2, 0.2, 0.2, 0.9])]
    assert single_group_selection(scores, 0, 2).plan == ((1, 2), ())
    # tied scores: a threshold takes all three, the cut takes two, dropping the higher indices as select's order does
    assert select(scores[1:], 0.5).plan == ((0, 1, 2),) and single_group_selection(scores, 1, 2).plan == ((), (1, 2))


def run_scan(store, run_id, settings):
    """(status, message, progress calls, job id) of a sensitivity job run here."""
    calls = []
    job_id = jobs.create(store, "sensitivity", settings, parent=run_id)
    status, message = jobs.run_here(store, job_id, echo=lambda d, t, m: calls.append((d, t)))
    return status, message, calls, job_id


@pytest.mark.parametrize("fixture", ["digits_run", "resnet20_digits_run"])
def test_the_scan_is_a_job_with_progress_to_the_end_then_is_read_back(fixture, request):
    store, run_id = request.getfixturevalue(fixture)
    settings = SensitivitySettings(shares=(0.25, 0.5, 0.9), recompute=True)
    status, message, calls, job_id = run_scan(store, run_id, settings)
    total = calls[-1][1]
    assert status == "finished" and [d for d, _ in calls] == list(range(total + 1))
    assert {t for _, t in calls} == {total}
    run = store.get_run(job_id)
    assert (run["done"], run["total"], run["progress"]) == (total, total, 1.0)
    scan = stored_sensitivity(store, run_id, settings)
    groups = load_trained(store, run_id).structure.groups
    assert [g["name"] for g in scan["groups"]] == [g.name for g in groups] and scan["evaluations"] == total
    assert message == f"{len(groups)} groups × 3 shares: {total} evaluations in {scan['seconds']} s"
    for group, g in zip(scan["groups"], groups):
        assert group["bns"] == g.bns and group["width"] == g.width
        assert [p["share"] for p in group["points"]] == [0.25, 0.5, 0.9]
        flops = [p["flops_ratio"] for p in group["points"]]
        assert flops == sorted(flops, reverse=True) and all(0 < f <= 1 for f in flops)
    assert run_scan(store, run_id, settings.replace(recompute=False))[:2] == ("finished", "read back from the store")


def test_a_point_is_the_cut_made_and_evaluated_by_hand(digits_run):
    store, run_id = digits_run
    scan = scan_sensitivity(store, run_id, SensitivitySettings(shares=(0.5,)))
    trained = load_trained(store, run_id)
    scores, _ = ranking_scores(store, trained, "bn")
    st = trained.structure
    g = 2
    width = st.groups[g].width
    removed = width // 2
    ordered = np.sort(scores[g])
    assert ordered[removed - 1] < ordered[removed]  # no tie at the border: a threshold gives the same cut
    alone = select([scores[g]], float(ordered[removed])).plan[0]
    plan = tuple(alone if i == g else () for i in range(len(scores)))
    model = pruned_model(trained.model, st, plan, trained.compensation)
    point = scan["groups"][g]["points"][0]
    assert (point["share"], point["removed"]) == (0.5, removed) and len(alone) == removed
    assert point["accuracy"] == pytest.approx(evaluate(model, trained.data.val)[1], abs=1e-12)
    assert point["flops_ratio"] == pytest.approx(st.macs(plan) / st.macs(st.empty_plan()), abs=1e-12)
    assert scan["base_accuracy"] == pytest.approx(evaluate(trained.model, trained.data.val)[1], abs=1e-12)


def test_the_stored_scan_is_read_back_and_another_series_of_shares_is_another_scan(digits_run):
    store, run_id = digits_run
    first = scan_sensitivity(store, run_id, SensitivitySettings(shares=(0.3, 0.6), recompute=True))
    again = scan_sensitivity(store, run_id, SensitivitySettings(shares=(0.6, 0.3)))
    assert not first["cached"] and again["cached"] and again["groups"] == first["groups"]
    assert artifact_name(SensitivitySettings()) == "sensitivity-bn"
    assert artifact_name(SensitivitySettings(shares=(0.3, 0.6))).startswith("sensitivity-bn-s")
    assert stored_sensitivity(store, run_id, SensitivitySettings(shares=(0.3, 0.7))) is None
    assert stored_sensitivity(store, run_id, SensitivitySettings(ranking="l1norm", shares=(0.3, 0.6))) is None


def test_a_stopped_scan_is_stopped_and_stores_nothing(digits_run):
    store, run_id = digits_run
    settings = SensitivitySettings(shares=(0.15, 0.45), recompute=True)
    asked = []

    def stop_on_third_check() -> bool:
        asked.append(1)
        return len(asked) >= 3

    job_id = jobs.create(store, "sensitivity", settings, parent=run_id)
    status, message = jobs.run_here(store, job_id, should_stop=stop_on_third_check)
    assert (status, jobs.view(store, job_id)["status"]) == ("stopped", "stopped")
    assert message.startswith("the sensitivity scan was stopped after 2 of ") and message.endswith("nothing was stored.")
    assert store.artifact(run_id, artifact_name(settings)) is None
    assert stored_sensitivity(store, run_id, settings) is None


SCAN = {"base_accuracy": 0.9, "shares": [0.25, 0.5],
        "groups": [{"name": "a", "bns": ["bn_a"], "width": 4, "scores": [0.1, 0.4, 0.3, 0.2],
                    "points": [{"share": 0.25, "removed": 1, "accuracy": 0.9, "flops_ratio": 0.8},
                               {"share": 0.5, "removed": 2, "accuracy": 0.7, "flops_ratio": 0.6}]},
                   {"name": "b", "bns": ["bn_b"], "width": 2, "scores": [0.05, 0.5],
                    "points": [{"share": 0.25, "removed": 0, "accuracy": 0.9, "flops_ratio": 1.0},
                               {"share": 0.5, "removed": 1, "accuracy": 0.4, "flops_ratio": 0.9}]}]}


def test_the_heatmap_is_the_accuracy_drop_per_group_and_share():
    drops = accuracy_drops(SCAN)
    assert drops["groups"] == ["a", "b"] and drops["shares"] == [0.25, 0.5]
    assert np.allclose(drops["drops"], [[0.0, 0.2], [0.0, 0.5]])


def test_the_global_thresholds_choice_per_group_follows_select_and_the_rules():
    assert removed_shares(SCAN, 0.25) == [0.5, 0.5]
    assert removed_shares(SCAN, 1.0) == [0.75, 0.5]  # each keeps its best channel
    assert removed_shares(SCAN, 0.25, rules=LayerRules(locked=("bn_b",))) == [0.5, 0.0]
    assert removed_shares(SCAN, 1.0, rules=LayerRules(round_to=2)) == [0.5, 0.0]


def test_the_choice_drawn_over_the_heatmap_is_what_the_preview_cuts(digits_run):
    store, run_id = digits_run
    scan = scan_sensitivity(store, run_id, SensitivitySettings(shares=(0.5,)))
    rules = LayerRules(locked=("features.8",), round_to=8)
    threshold = float(np.median(np.concatenate([g["scores"] for g in scan["groups"]])))
    point = preview_at(store, run_id, threshold=threshold, rules=rules)
    want = [1 - point["widths"][g["bns"][0]] / g["width"] for g in scan["groups"]]
    assert removed_shares(scan, threshold, rules=rules) == pytest.approx(want) and want[2] == 0 and max(want) > 0
