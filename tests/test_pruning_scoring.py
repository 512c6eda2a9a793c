"""A trained run's channels scored under a ranking and the plan a target gives (`slimcore.pruning.scoring`)."""
from __future__ import annotations

import numpy as np
import pytest

import slimcore.pruning.scoring as scoring
from slimcore.errors import ConfigError, Stopped
from slimcore.pruning.math.plan import select, select_flops
from slimcore.pruning.math.rankings import bn_scores, filter_norms
from slimcore.pruning.scoring import describe_ranking, ranking_scores, selection_for
from slimcore.pruning.trained import load_trained


def test_scores_are_the_ranking_of_the_run_model(digits_run):
    store, run_id = digits_run
    trained = load_trained(store, run_id)
    for ranking, oracle in (("bn", bn_scores), ("l1norm", filter_norms)):
        scores, learned = ranking_scores(store, trained, ranking)
        want = oracle(trained.model, trained.structure.groups)
        assert learned is None and all(np.array_equal(a, b) for a, b in zip(scores, want, strict=True))


def test_a_threshold_or_a_flops_ratio_gives_the_plan_the_math_gives(digits_run):
    store, run_id = digits_run
    trained = load_trained(store, run_id)
    scores, _ = ranking_scores(store, trained, "bn")
    assert selection_for(trained, scores, 0.05, None, 2) == select(scores, 0.05, 2)
    assert selection_for(trained, scores, None, 0.4, 1) == select_flops(scores, 0.4, trained.structure.macs, 1)


def test_a_legr_search_stopped_before_its_first_candidate_is_a_stop(digits_run, monkeypatch):
    store, run_id = digits_run
    monkeypatch.setattr(scoring, "stored_legr", lambda store, run_id: None)  # as if none had been stored yet
    with pytest.raises(Stopped, match="stopped before its first candidate; nothing was stored"):
        ranking_scores(store, load_trained(store, run_id), "legr", should_stop=lambda: True)


def test_non_finite_scores_are_refused(digits_run, monkeypatch):
    store, run_id = digits_run
    trained = load_trained(store, run_id)
    bn = scoring.RANKINGS.get("bn")
    monkeypatch.setattr(bn, "scores", lambda self, model, groups, learned=None: [np.array([np.nan])])
    with pytest.raises(ConfigError, match="non-finite scores"):
        ranking_scores(store, trained, "bn")


def test_describe_ranking_lists_every_group_with_its_scores(digits_run):
    store, run_id = digits_run
    trained = load_trained(store, run_id)
    out = describe_ranking(store, run_id, "l1norm")
    assert (out["run_id"], out["ranking"]) == (run_id, "l1norm") and out["description"].startswith("Mean |w|")
    assert [g["name"] for g in out["groups"]] == [g.name for g in trained.structure.groups]
    for row, group, scores in zip(out["groups"], trained.structure.groups, filter_norms(trained.model,
                                                                                        trained.structure.groups)):
        assert row["bns"] == group.bns and row["width"] == group.width == len(row["scores"])
        assert row["scores"] == [float(v) for v in scores]
    assert "legr" not in out


@pytest.mark.parametrize("fixture, locked, capped", [("digits_run", "features.0", "features.12"),
                                                     ("resnet20_digits_run", "layer2.0.bn2", "layer3.1.conv1")])
def test_no_threshold_of_a_real_run_breaks_the_rules(fixture, locked, capped, request):
    """Every threshold that gives a different plan (each distinct score, and one above the largest), on slimnet and
    on resnet20, named by group and by BN layer: the locked group keeps every channel, the capped one loses at most
    a third, every kept width is a multiple of 8 or the whole group."""
    from slimcore.pruning.math.plan import candidate_thresholds
    from slimcore.pruning.math.rules import LayerRules

    store, run_id = request.getfixturevalue(fixture)
    trained = load_trained(store, run_id)
    scores, _ = ranking_scores(store, trained, "bn")
    rules = LayerRules(locked=(locked,), max_removed={capped: 1 / 3}, round_to=8)
    groups = trained.structure.groups
    lock, cap = (next(i for i, g in enumerate(groups) if name in (g.name, *g.bns)) for name in (locked, capped))
    bitten = set()
    for t in candidate_thresholds(scores):
        plan = selection_for(trained, scores, float(t), None, 1, rules).plan
        free = select(scores, float(t), 1).plan
        assert plan[lock] == () and len(plan[cap]) <= groups[cap].width / 3
        assert all((g.width - len(r)) % 8 == 0 or not r for g, r in zip(groups, plan))
        bitten |= {i for i in (lock, cap) if len(free[i]) > len(plan[i])}
    assert bitten == {lock, cap}  # at some threshold each rule changed the plan
