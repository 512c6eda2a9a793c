"""Where a removed BN channel's constant lands (`slimcore.analysis.constants`): through activations, pooling, flatten
and dropout to the convs and linears that read it; residual adds and concatenations end it."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from slimcore.analysis.constants import constant_uses
from slimcore.models import create_model

from conftest import NoPadNet


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


class Between(nn.Module):
    """conv → BN → `op` → conv."""

    def __init__(self, op) -> None:
        super().__init__()
        self.c1, self.bn, self.c2 = nn.Conv2d(2, 4, 3, bias=False), nn.BatchNorm2d(4), nn.Conv2d(4, 3, 1)
        self.op = op

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c2(self.op(self.bn(self.c1(x))))


@pytest.mark.parametrize("op, beta, seen", [
    (lambda x: F.leaky_relu(x, 0.2), [-1.0, 2.0], [-0.2, 2.0]),
    (nn.Hardtanh(-0.5, 0.5), [-1.0, 0.25], [-0.5, 0.25]),
    (nn.MaxPool2d(2), [-1.0, 2.0], [-1.0, 2.0]),
    (nn.AvgPool2d(2), [-1.0, 2.0], [-1.0, 2.0]),
])
def test_the_constant_is_what_the_ops_on_the_way_make_of_beta(op, beta, seen):
    [use] = constant_uses(Between(op))["bn"]
    assert use.consumer == "c2" and use.spread == 0 and use.fold_into is None
    torch.testing.assert_close(use.constant(torch.tensor(beta)), torch.tensor(seen))


@pytest.mark.parametrize("op", [nn.AvgPool2d(3, padding=1), lambda x: x + 1.0, lambda x: x * x.mean()])
def test_ops_that_do_not_keep_a_channel_constant_end_the_walk(op):
    # zero padding counted in a mean makes the border differ; an add of another value or a product is no
    # elementwise activation of the channel alone
    assert "bn" not in constant_uses(Between(op))
