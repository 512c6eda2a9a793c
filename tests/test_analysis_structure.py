"""What pruning knows about a network (`slimcore.analysis.structure`), on every zoo architecture: the physically
pruned model computes what the masked preview model computes, its FLOPs match torch's independent counter exactly,
and removing a channel never adds FLOPs or parameters."""
from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from slimcore.models import create_model, list_models
from slimcore.pruning.math.plan import select
from slimcore.pruning.math.rankings import RANKINGS
from slimcore.analysis.structure import analyse, masked_model, pruned_model

# The wide and deep nets take seconds per example on a 2-core CPU: they run in the slow (CI) set. The fast set
# still covers a residual net, depthwise convs (tv_mobilenet_v2) and a linear classifier stack (tv_vgg11_bn).
FAST = {"slimnet", "resnet20", "resnet56", "tv_mobilenet_v2", "tv_resnet18", "tv_vgg11_bn"}
SHAPE = (3, 16, 16)


def zoo_params():
    return [n if n in FAST else pytest.param(n, marks=pytest.mark.slow) for n in list_models()]


@functools.lru_cache(maxsize=2)
def randomised(name: str):
    """The model with random BN γ (a third of them 0), β, running statistics; and its structure."""
    torch.manual_seed(0)
    model = create_model(name, 10, SHAPE[0], SHAPE[1])
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.num_features) * (torch.rand(m.num_features) > 0.3))
                m.bias.copy_(torch.randn(m.num_features) * 0.5)
                m.running_mean.copy_(torch.randn(m.num_features) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features) + 0.5)
    model.eval()
    return model, analyse(model, SHAPE)


def widths_ok(model: nn.Module, min_width: int = 1) -> bool:
    for m in model.modules():
        if isinstance(m, nn.Conv2d) and min(m.in_channels, m.out_channels) < min_width:
            return False
        if isinstance(m, nn.BatchNorm2d) and m.num_features < min_width:
            return False
        if isinstance(m, nn.Linear) and min(m.in_features, m.out_features) < 1:
            return False
    return True


def flops_counted(model: nn.Module) -> int:
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.randn(1, *SHAPE))
    return counter.get_total_flops()


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", zoo_params())
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(q=st.floats(0.0, 1.0), ranking=st.sampled_from(["bn", "l1norm"]), min_channels=st.sampled_from([1, 2]))
def test_pruned_equals_masked_and_flops_match_the_counter(name, q, ranking, min_channels):
    model, structure = randomised(name)
    scores = RANKINGS.get(ranking)().scores(model, structure.groups)
    flat = np.sort(np.concatenate(scores))
    threshold = float(flat[min(int(q * len(flat)), len(flat) - 1)]) if q < 1 else np.inf
    sel = select(scores, threshold, min_channels)
    pruned = pruned_model(model, structure, sel.plan)
    masked = masked_model(model, structure, sel.plan)
    x = torch.randn(4, *SHAPE)
    with torch.no_grad():
        torch.testing.assert_close(pruned(x), masked(x), atol=1e-5, rtol=1e-5)
    assert 2 * structure.macs(sel.plan) == flops_counted(pruned)
    assert widths_ok(pruned)
    for group, removed in zip(structure.groups, sel.plan):
        assert group.width - len(removed) >= min(min_channels, group.width)
    assert all(w >= 1 for w in structure.widths(sel.plan).values())

    # one more channel out (from a group above its minimum): FLOPs and parameters never grow
    open_groups = [i for i, (g, r) in enumerate(zip(structure.groups, sel.plan)) if g.width - len(r) > min_channels]
    if open_groups:
        i = open_groups[int(q * 1000) % len(open_groups)]
        extra = min(set(range(structure.groups[i].width)) - set(sel.plan[i]))
        bigger = tuple(tuple(sorted(r + (extra,))) if j == i else r for j, r in enumerate(sel.plan))
        assert structure.macs(bigger) <= structure.macs(sel.plan)
        assert n_params(pruned_model(model, structure, bigger)) <= n_params(pruned)


@pytest.mark.parametrize("name", zoo_params())
def test_unpruned_plan_changes_nothing(name):
    model, structure = randomised(name)
    pruned = pruned_model(model, structure, structure.empty_plan())
    x = torch.randn(2, *SHAPE)
    with torch.no_grad():
        torch.testing.assert_close(pruned(x), model(x), atol=0, rtol=0)
    assert 2 * structure.macs(structure.empty_plan()) == flops_counted(model)
    assert n_params(pruned) == n_params(model)


@pytest.mark.parametrize("name", ["slimnet", "resnet20", pytest.param("densenet40", marks=pytest.mark.slow),
                                  pytest.param("mobilenetv2", marks=pytest.mark.slow)])
def test_torch_pruning_group_prune_gives_the_same_model(name):
    """Our per-layer cuts with indices from the dependency graph equal Torch-Pruning's own group.prune() (with the
    compensation Torch-Pruning's per-channel layers can hold: act(β) into biases)."""
    from slimcore.analysis.graph import build_dependency_graph
    from slimcore.pruning.math.absorb import absorb
    from slimcore.pruning.math.compensate import BetaAbsorption

    model, structure = randomised(name)
    scores = RANKINGS.get("bn")().scores(model, structure.groups)
    sel = select(scores, float(np.quantile(np.concatenate(scores), 0.6)), 1)
    ours = pruned_model(model, structure, sel.plan, BetaAbsorption(structure.uses))

    theirs = __import__("copy").deepcopy(model).eval()
    absorb(theirs, structure.uses, structure.removed(sel.plan))
    for p in theirs.parameters():
        p.requires_grad_(True)
    dg = build_dependency_graph(theirs, torch.zeros(1, *SHAPE))
    modules = dict(theirs.named_modules())
    for group, removed in zip(structure.groups, sel.plan):
        if removed:
            root = modules[group.name]
            dg.get_pruning_group(root, dg.get_pruner_of_module(root).prune_out_channels, list(removed)).prune()
    a, b = ours.state_dict(), theirs.state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_widths_and_removed_channels_of_a_plan_by_hand():
    model, structure = randomised("slimnet")
    assert structure.input_shape == SHAPE and structure.empty_plan() == tuple(() for _ in structure.groups)
    assert structure.bn_sizes == {n: m.num_features for n, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)}
    plan = tuple((0, 2) if i == 1 else () for i in range(len(structure.groups)))
    bn = structure.groups[1].bns[0]
    assert structure.widths(plan) == {**structure.bn_sizes, bn: structure.bn_sizes[bn] - 2}
    assert structure.removed(plan)[(bn, "bn")].tolist() == [0, 2]
    assert structure.macs(plan) < structure.macs(structure.empty_plan())


def test_analysis_leaves_the_model_untouched():
    model = create_model("resnet20", 10, 3, 16).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    analyse(model, SHAPE)
    assert model.training and all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
