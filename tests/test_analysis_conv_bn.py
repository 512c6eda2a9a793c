"""Which conv feeds each BN and its MACs (`slimcore.analysis.conv_bn`), found by one probe that leaves BN statistics
and the model's mode as they were."""
from __future__ import annotations

import torch
from torch import nn

from slimcore.analysis.conv_bn import ConvBN, conv_bn_pairs

from conftest import ResidualNet, make, snapshot


def test_conv_bn_pairs_and_bn_stats_untouched():
    model = make(ResidualNet)
    stats = snapshot(model)
    model.train()
    pairs = conv_bn_pairs(model, torch.randn(2, 3, 8, 8))
    assert [(p.bn, p.conv) for p in pairs] == [("bn0", "conv0"), ("bn1", "conv1"), ("bn2", "conv2")]
    assert all(p.macs == 9 * 8 * 8 * 64 for p in pairs[1:])
    assert model.training
    assert all(torch.equal(v, stats[k]) for k, v in model.state_dict().items())


def test_a_bn_not_fed_by_a_conv_has_no_conv_and_the_cost_of_the_last_conv_before_it():
    model = nn.Sequential(nn.BatchNorm2d(3), nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.ReLU(), nn.BatchNorm2d(4),
                          nn.Conv2d(4, 6, 1, bias=False), nn.BatchNorm2d(6))
    pairs = conv_bn_pairs(model, torch.randn(5, 3, 8, 8))
    # the input BN reads the data; BN "3" reads a ReLU's output, not the conv's; BN "5" reads conv "4" directly
    assert pairs == [ConvBN("0", None, 0), ConvBN("3", None, 9 * 3 * 4 * 64), ConvBN("5", "4", 4 * 6 * 64)]
