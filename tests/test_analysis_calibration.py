"""The calibration probe (`slimcore.analysis.calibration`): each layer's mean input equals the mean computed by
hand, and exact act(β) compensation keeps a network's function when the removed γ are 0, padding and adds
included."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from slimcore.analysis.calibration import ExactBetaCompensation, mean_inputs
from slimcore.analysis.structure import analyse, pruned_model
from slimcore.pruning.math.plan import select
from slimcore.pruning.math.rankings import bn_scores

from conftest import ResidualNet, make, zero_gammas


def small_net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Conv2d(3, 4, 1),
                         nn.Flatten(), nn.Linear(4 * 5 * 5, 2))


def test_mean_inputs_equal_the_means_computed_by_hand():
    model = small_net().eval()
    batches = [torch.randn(3, 2, 5, 5), torch.randn(2, 2, 5, 5)]
    means = mean_inputs(model, batches)
    x = torch.cat(batches)
    with torch.no_grad():
        after_relu = model[2](model[1](model[0](x)))
        flat = model[4](model[3](after_relu))
    torch.testing.assert_close(means["0"], x.mean(0))
    torch.testing.assert_close(means["3"], after_relu.mean(0))
    torch.testing.assert_close(means["5"], flat.mean(0))


def test_mean_inputs_watch_only_the_named_layers_and_leave_the_modes():
    model = small_net().train()
    means = mean_inputs(model, [torch.randn(4, 2, 5, 5)], ["3"])
    assert list(means) == ["3"]
    assert all(m.training for m in model.modules())
    assert model[1].num_batches_tracked.item() == 0  # eval mode: running statistics untouched


def test_exact_beta_keeps_a_residual_network_whose_removed_gammas_are_zero():
    model = make(ResidualNet).eval()
    structure = analyse(model, (3, 8, 8))
    scores = bn_scores(model, structure.groups)
    plan = select(scores, float(np.quantile(np.concatenate(scores), 0.5)), 1).plan
    assert structure.removed(plan)
    reference = zero_gammas(model, structure, plan).eval()
    pruned = pruned_model(model, structure, plan, ExactBetaCompensation((3, 8, 8)))
    x = torch.randn(6, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(pruned(x), reference(x), atol=1e-5, rtol=1e-5)
    assert ExactBetaCompensation((3, 8, 8)).name == "beta-exact"
