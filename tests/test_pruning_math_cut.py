"""The two ways to drop a plan's channels (`slimcore.pruning.math.cut`): `mask` zeroes exactly their weights, `cut`
removes exactly those rows and columns, and the two models compute the same function."""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from slimcore.pruning.math.cut import cut, mask

REMOVED = {("0", "out"): np.array([1]), ("1", "bn"): np.array([1]), ("3", "dw"): np.array([1]),
           ("4", "bn"): np.array([1]), ("6", "in"): np.array([1])}


def net() -> nn.Sequential:
    """conv (with bias) → BN → ReLU → depthwise conv → BN → ReLU → conv: channel 1 runs through all of them."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 4, 1), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1, groups=4),
                          nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 3, 1))
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-1, 1)
                m.running_mean.uniform_(-0.5, 0.5)
    return model.eval()


def test_mask_zeroes_exactly_the_removed_channels_weights():
    model, before = net(), net().state_dict()
    mask(model, REMOVED)
    after = model.state_dict()
    for key in ("0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias", "4.weight", "4.bias"):
        assert torch.all(after[key][1] == 0), key
        keep = [0, 2, 3]
        assert torch.equal(after[key][keep], before[key][keep]), key
    assert torch.all(after["6.weight"][:, 1] == 0) and torch.equal(after["6.weight"][:, [0, 2, 3]],
                                                                   before["6.weight"][:, [0, 2, 3]])
    assert torch.equal(after["6.bias"], before["6.bias"])
    for key in ("1.running_mean", "1.running_var", "4.running_mean", "4.running_var"):
        assert torch.equal(after[key], before[key]), key  # statistics are not weights


def test_cut_removes_exactly_those_rows_and_columns():
    model, before = net(), net().state_dict()
    cut(model, REMOVED)
    keep = [0, 2, 3]
    assert (model[0].out_channels, model[1].num_features, model[3].groups, model[6].in_channels) == (3, 3, 3, 3)
    after = model.state_dict()
    for key in ("0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "3.weight", "3.bias",
                "4.weight", "4.running_var"):
        assert torch.equal(after[key], before[key][keep]), key
    assert torch.equal(after["6.weight"], before["6.weight"][:, keep])


def test_the_cut_model_computes_what_the_masked_one_does():
    masked, pruned = net(), net()
    mask(masked, REMOVED)
    cut(pruned, copy.deepcopy(REMOVED))
    x = torch.randn(5, 2, 6, 6)
    with torch.no_grad():
        torch.testing.assert_close(pruned(x), masked(x), atol=1e-6, rtol=1e-6)
        assert not torch.allclose(net()(x), masked(x))  # the channel mattered
