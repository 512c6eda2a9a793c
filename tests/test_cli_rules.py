"""The per-layer rule flags (`slimcore.cli.rules`) of `preview` and `prune`: parsed into LayerRules, bad values one line
with exit 2, and end to end on slimnet and resnet20: a commit with --round-to 8, a lock and a cap keeps every rule,
and its model.pt computes what the masked model computes."""
from __future__ import annotations

import json

import pytest
import torch
from torch import nn

import slimcore
from slimcore.analysis.structure import masked_model
from slimcore.cli.main import build_parser, main
from slimcore.cli.rules import rules_from_args
from slimcore.pruning.math.rules import LayerRules
from slimcore.pruning.scoring import ranking_scores, selection_for
from slimcore.pruning.trained import load_trained


def test_the_flags_build_the_rules_and_repeat():
    for command in (["prune", "R", "--threshold", "0.1"], ["preview", "R"]):
        args = build_parser().parse_args([*command, "--lock", "a", "--lock", "bn_b", "--max-removed", "x=0.5",
                                          "--max-removed", "layer1.0.bn1=0.25", "--min-width", "y=3",
                                          "--round-to", "8"])
        assert rules_from_args(args) == LayerRules(locked=("a", "bn_b"), max_removed={"x": 0.5, "layer1.0.bn1": 0.25},
                                                   min_width={"y": 3}, round_to=8)
    assert rules_from_args(build_parser().parse_args(["preview", "R"])).empty


@pytest.mark.parametrize("flags, message", [
    (["--max-removed", "features.4"], "--max-removed wants NAME=SHARE (e.g. --max-removed features.4=0.5), got "
                                      "'features.4'."),
    (["--max-removed", "=0.5"], "--max-removed wants NAME=SHARE"),
    (["--max-removed", "features.4=half"], "--max-removed wants NAME=SHARE"),
    (["--max-removed", "features.4=1"], "--max-removed features.4: the share of channels it may lose must be a "
                                        "number in [0, 1)"),
    (["--min-width", "features.4=2.5"], "--min-width wants NAME=N (e.g. --min-width features.4=8), got "
                                        "'features.4=2.5'."),
    (["--min-width", "features.4=0"], "--min-width features.4: the channels it keeps at least must be an integer"),
    (["--round-to", "0"], "--round-to must be an integer in 1..4096"),
    (["--lock", "features.99"], "--lock features.99: no channel group or BN layer of that name; valid: group (its BN "
                                "layers): features.0 (features.1), features.4 (features.5)"),
])
@pytest.mark.parametrize("command", [["prune", "RUN", "--threshold", "0.1"], ["preview", "RUN", "--points", "3"],
                                     ["preview", "RUN", "--flops-ratio", "0.5"]])
def test_bad_rules_are_one_line_and_exit_2_before_any_job_is_recorded(digits_run, capsys, command, flags, message):
    store, run_id = digits_run
    before = len(store.list_runs())
    code = main([run_id if a == "RUN" else a for a in command] + flags + ["--json", "--runs-dir", str(store.root)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("slimcore: error:")
    assert message in err and len(store.list_runs()) == before


CASES = {"digits_run": ("features.8", "features.15"),  # slimnet: lock a group by its BN, cap another by its BN
         "resnet20_digits_run": ("layer1.0.bn2", "layer2.1.bn1")}  # resnet20: the stem's residual stream by a BN


@pytest.mark.parametrize("fixture", list(CASES))
def test_a_round_to_8_commit_keeps_every_rule_and_equals_the_masked_model(fixture, request, capsys, tmp_path):
    store, run_id = request.getfixturevalue(fixture)
    locked, capped = CASES[fixture]
    code = main(["prune", run_id, "--flops-ratio", "0.4", "--round-to", "8", "--lock", locked, "--max-removed",
                 f"{capped}=0.25", "--out", str(tmp_path), "--json", "--runs-dir", str(store.root)])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    rules = LayerRules(locked=(locked,), max_removed={capped: 0.25}, round_to=8)
    assert report["rules"] == rules.to_dict() and report["settings"]["rules"] == rules.to_dict()
    trained = load_trained(store, run_id)
    st = trained.structure
    loaded = slimcore.load_pruned(tmp_path / "model.pt")
    widths = {name: m.num_features for name, m in loaded.named_modules() if isinstance(m, nn.BatchNorm2d)}
    assert widths == report["widths"] and report["flops_ratio"] < 1
    for group in st.groups:
        kept = {widths[bn] for bn in group.bns}
        assert len(kept) == 1  # a group's BN layers are cut alike
        kept = kept.pop()
        assert kept % 8 == 0 or kept == group.width
        if locked in (group.name, *group.bns):
            assert kept == group.width
        if capped in (group.name, *group.bns):
            assert group.width - kept <= 0.25 * group.width

    scores, _ = ranking_scores(store, trained, "bn")
    free = st.widths(selection_for(trained, scores, None, 0.4, 1).plan)  # without the rules, both would be cut more
    lock_group, cap_group = (next(g for g in st.groups if name in (g.name, *g.bns)) for name in (locked, capped))
    assert free[lock_group.bns[0]] < lock_group.width and cap_group.width - free[cap_group.bns[0]] > 0.25 * cap_group.width
    plan = selection_for(trained, scores, None, 0.4, 1, rules).plan
    assert st.widths(plan) == report["widths"]
    masked = masked_model(trained.model, st, plan, trained.compensation)
    x = torch.stack([trained.data.val[i][0] for i in range(len(trained.data.val))])
    with torch.no_grad():
        want, got = masked(x), loaded(x)
    assert float((got - want).norm() / want.norm()) <= 1e-5
