"""Absorption (Ye et al. 2018): a channel with γ = 0 outputs the constant act(β); folding it into the consumers
and cutting the channel leaves the function unchanged wherever no zero padding is involved."""
from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from slimcore.models import create_model
from slimcore.analysis.constants import constant_uses
from slimcore.pruning.math.plan import select
from slimcore.pruning.math.rankings import bn_scores
from slimcore.analysis.structure import analyse, pruned_model


class NoPadNet(nn.Module):
    """Unpadded convs so a constant channel is constant everywhere: conv→BN (fold), conv→cat (bias), a
    depthwise stage with ReLU6, and a flatten into a linear layer."""

    def __init__(self) -> None:
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8)
        self.c2, self.b2 = nn.Conv2d(8, 12, 1, bias=False), nn.BatchNorm2d(12)
        self.dw, self.bdw = nn.Conv2d(12, 12, 3, groups=12, bias=False), nn.BatchNorm2d(12)
        self.c3, self.b3 = nn.Conv2d(12, 6, 1, bias=False), nn.BatchNorm2d(6)
        self.fc = nn.Linear(6 * 6 * 6, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.b1(self.c1(x)))
        x = nn.functional.relu6(self.b2(self.c2(x)))
        x = nn.functional.relu6(self.bdw(self.dw(x)))
        x = torch.relu(self.b3(self.c3(x)))
        return self.fc(torch.flatten(x, 1))


def randomise(model: nn.Module, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.num_features) + 0.1)
                m.bias.copy_(torch.randn(m.num_features))
                m.running_mean.copy_(torch.randn(m.num_features) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features) + 0.5)
    return model.eval()


def zero_gammas(model: nn.Module, structure, plan) -> nn.Module:
    """The same network with γ = 0 (β kept) for every removed BN channel: the function absorption preserves."""
    out = copy.deepcopy(model)
    modules = dict(out.named_modules())
    with torch.no_grad():
        for (name, kind), idx in structure.removed(plan).items():
            if kind == "bn":
                modules[name].weight[torch.as_tensor(idx)] = 0
    return out


def test_constant_uses_follow_activations_pools_and_flatten():
    uses = constant_uses(NoPadNet())
    assert {u.consumer for u in uses["b1"]} == {"c2"} and uses["b1"][0].fold_into == "b2"
    assert uses["b2"][0].consumer == "dw" and uses["b2"][0].fold_into == "bdw"
    assert uses["b3"][0].consumer == "fc" and uses["b3"][0].spread == 36
    assert uses["b2"][0].constant(torch.tensor([-1.0, 3.0, 7.0])).tolist() == [0.0, 3.0, 6.0]  # ReLU6


def test_residual_and_concatenated_outputs_are_not_constant_uses():
    uses = constant_uses(create_model("resnet20", 10, 3, 16))
    assert "layer1.0.bn1" in uses and "layer1.0.bn2" not in uses and "bn1" not in uses
    dense = constant_uses(create_model("densenet40", 10, 3, 16))
    assert dense["dense1.0.bn"][0].consumer == "dense1.0.conv" and dense["dense1.0.bn"][0].fold_into is None


@pytest.mark.parametrize("quantile", [0.2, 0.5, 0.8])
def test_pruning_zero_gamma_channels_is_exact_without_padding(quantile):
    model = randomise(NoPadNet())
    structure = analyse(model, (3, 10, 10))
    scores = bn_scores(model, structure.groups)
    flat = torch.cat([torch.as_tensor(s) for s in scores])
    sel = select(scores, float(flat.quantile(quantile)), 1)
    assert sel.removed > 0
    reference = zero_gammas(model, structure, sel.plan)
    pruned = pruned_model(model, structure, sel.plan)
    x = torch.randn(8, 3, 10, 10)
    with torch.no_grad():
        torch.testing.assert_close(pruned(x), reference(x), atol=1e-5, rtol=1e-5)


def test_absorption_is_what_keeps_the_function():
    """Cutting the same channels without absorbing their constant changes the outputs."""
    from slimcore.pruning.math.cut import cut

    model = randomise(NoPadNet())
    structure = analyse(model, (3, 10, 10))
    scores = bn_scores(model, structure.groups)
    sel = select(scores, float(torch.cat([torch.as_tensor(s) for s in scores]).median()), 1)
    naive = copy.deepcopy(model)
    cut(naive, structure.removed(sel.plan))
    x = torch.randn(8, 3, 10, 10)
    with torch.no_grad():
        assert (naive(x) - zero_gammas(model, structure, sel.plan)(x)).abs().max() > 1e-2


def test_consumer_without_bn_gets_a_bias_only_when_needed():
    model = randomise(create_model("densenet40", 10, 1, 8))
    structure = analyse(model, (1, 8, 8))
    pruned = pruned_model(model, structure, structure.empty_plan())
    assert all(m.bias is None for m in pruned.modules() if isinstance(m, nn.Conv2d))
    scores = bn_scores(model, structure.groups)
    sel = select(scores, float(torch.cat([torch.as_tensor(s) for s in scores]).quantile(0.3)), 1)
    pruned = pruned_model(model, structure, sel.plan)
    assert any(m.bias is not None for m in pruned.modules() if isinstance(m, nn.Conv2d))


def test_padding_border_effect_is_confined_to_the_border():
    """With zero padding, absorbed ≠ (γ = 0, β kept) only near the border: interior outputs agree exactly."""
    torch.manual_seed(0)
    net = randomise(nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                                  nn.Conv2d(4, 3, 3, padding=1, bias=False), nn.BatchNorm2d(3)))
    with torch.no_grad():
        net[1].bias.copy_(torch.tensor([0.8, 0.1, 0.5, -0.2]))  # ReLU(β) > 0: a constant that matters
    wrapped = nn.Sequential(net, nn.Conv2d(3, 2, 1)).eval()  # a final layer whose outputs are never pruned
    structure = analyse(wrapped, (1, 9, 9))
    plan = tuple((0, 2) if g.name == "0.0" else () for g in structure.groups)
    pruned = pruned_model(wrapped, structure, plan)
    reference = zero_gammas(wrapped, structure, plan)
    x = torch.randn(4, 1, 9, 9)
    with torch.no_grad():
        diff = (pruned(x) - reference(x)).abs()
    assert diff[..., 1:-1, 1:-1].max() < 1e-5 and diff.max() > 1e-4
