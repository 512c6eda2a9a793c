"""Absorption (`slimcore.pruning.math.absorb`, Ye et al. 2018): a channel with γ = 0 outputs the constant act(β);
folding it into the consumers and cutting the channel leaves the function unchanged wherever no zero padding is
involved."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from slimcore.models import create_model
from slimcore.pruning.math.absorb import ConstantUse, absorb
from slimcore.pruning.math.plan import select
from slimcore.pruning.math.rankings import bn_scores
from slimcore.analysis.structure import analyse, pruned_model

from conftest import NoPadNet, zero_gammas


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


def test_padding_border_effect_is_confined_to_the_border_and_exact_compensation_removes_it():
    """With zero padding, act(β) absorbed ≠ (γ = 0, β kept) only near the border: interior outputs agree exactly.
    The exact compensation (the consumer's own response, per position) agrees everywhere."""
    from slimcore.pruning.math.bias_map import BiasMapConv2d
    from slimcore.pruning.math.compensate import BetaAbsorption

    torch.manual_seed(0)
    net = randomise(nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                                  nn.Conv2d(4, 3, 3, padding=1, bias=False), nn.BatchNorm2d(3)))
    with torch.no_grad():
        net[1].bias.copy_(torch.tensor([0.8, 0.1, 0.5, -0.2]))  # ReLU(β) > 0: a constant that matters
    wrapped = nn.Sequential(net, nn.Conv2d(3, 2, 1)).eval()  # a final layer whose outputs are never pruned
    structure = analyse(wrapped, (1, 9, 9))
    plan = tuple((0, 2) if g.name == "0.0" else () for g in structure.groups)
    absorbed = pruned_model(wrapped, structure, plan, BetaAbsorption(structure.uses))
    exact = pruned_model(wrapped, structure, plan)
    reference = zero_gammas(wrapped, structure, plan)
    x = torch.randn(4, 1, 9, 9)
    with torch.no_grad():
        diff = (absorbed(x) - reference(x)).abs()
        exact_diff = (exact(x) - reference(x)).abs()
    assert diff[..., 1:-1, 1:-1].max() < 1e-5 and diff.max() > 1e-4
    assert exact_diff.max() < 1e-5
    assert isinstance(exact.get_submodule("0.3"), BiasMapConv2d)  # the border needs a per-position bias


# -- absorb() on hand-made uses: the shift by hand ----------------------------------------------------
class BNThen(nn.Module):
    """BN "b" (4 channels) read by a consumer `c`; `f` is a BN after it (used when the constant folds there)."""

    def __init__(self, consumer: nn.Module) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.b, self.c, self.f = nn.BatchNorm2d(4), consumer, nn.BatchNorm1d(2)
        with torch.no_grad():
            self.b.bias.copy_(torch.tensor([0.5, -1.0, 2.0, 3.0]))
            self.f.running_mean.copy_(torch.tensor([0.25, -0.25]))


REMOVED = {("b", "bn"): np.array([1, 2])}
RELU = ConstantUse("b", "c", (torch.relu,), 0, None)  # relu(β) of the removed channels: [0, 2]


def test_a_conv_without_bias_gets_the_shift_as_a_new_bias():
    model = BNThen(nn.Conv2d(4, 2, 3, bias=False))
    w = model.c.weight.detach().clone()
    assert absorb(model, {"b": [RELU]}, REMOVED) == ["c"]
    torch.testing.assert_close(model.c.bias.detach(), 2.0 * w[:, 2].sum(dim=(1, 2)), rtol=0, atol=1e-6)


def test_an_existing_bias_grows_and_a_following_bn_takes_the_shift_in_its_mean_instead():
    model = BNThen(nn.Conv2d(4, 2, 1))
    bias, w = model.c.bias.detach().clone(), model.c.weight.detach().clone()
    assert absorb(model, {"b": [RELU]}, REMOVED) == []
    torch.testing.assert_close(model.c.bias.detach(), bias + 2.0 * w[:, 2, 0, 0], rtol=0, atol=1e-6)

    model = BNThen(nn.Conv2d(4, 2, 1, bias=False))
    w = model.c.weight.detach().clone()
    assert absorb(model, {"b": [ConstantUse("b", "c", (torch.relu,), 0, "f")]}, REMOVED) == []
    assert model.c.bias is None
    torch.testing.assert_close(model.f.running_mean, torch.tensor([0.25, -0.25]) - 2.0 * w[:, 2, 0, 0])


def test_a_linear_after_a_flatten_sums_each_channel_over_its_spread():
    model = BNThen(nn.Linear(4 * 3, 2))
    bias, w = model.c.bias.detach().clone(), model.c.weight.detach().clone()
    absorb(model, {"b": [ConstantUse("b", "c", (), 3, None)]}, REMOVED)  # no activation: the constant is β
    want = bias + (-1.0) * w[:, 3:6].sum(dim=1) + 2.0 * w[:, 6:9].sum(dim=1)
    torch.testing.assert_close(model.c.bias.detach(), want, rtol=0, atol=1e-6)


def test_a_constant_of_zero_changes_nothing():
    model = BNThen(nn.Conv2d(4, 2, 1, bias=False))
    before = copy.deepcopy(model.state_dict())
    assert absorb(model, {"b": [RELU]}, {("b", "bn"): np.array([1])}) == []  # relu(−1) = 0
    assert model.c.bias is None and all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_constant_applies_the_chain_in_order():
    use = ConstantUse("b", "c", (lambda x: x - 1.0, torch.relu, lambda x: 2 * x), 0, None)
    assert use.constant(torch.tensor([0.5, 3.0])).tolist() == [0.0, 4.0]


def test_a_depthwise_consumer_whose_shifted_outputs_are_cut_too_gets_no_bias():
    model = BNThen(nn.Conv2d(4, 4, 1, groups=4, bias=False))
    # channel k of a depthwise conv reads only channel k: the shift lands on outputs 1 and 2, which go with it
    removed = {**REMOVED, ("c", "dw"): np.array([1, 2])}
    assert absorb(model, {"b": [ConstantUse("b", "c", (), 0, None)]}, removed) == []
    assert model.c.bias is None
    assert absorb(model, {"b": [ConstantUse("b", "c", (), 0, None)]}, REMOVED) == ["c"]
    assert model.c.bias.detach()[[0, 3]].tolist() == [0.0, 0.0] and model.c.bias.detach()[1] != 0
