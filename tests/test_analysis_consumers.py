"""Which layers read a BN's output through ops that commute with a positive scale (`slimcore.analysis.consumers`):
only convs/linears reached through ReLU, pooling and reshapes; a residual add or a concatenation ends the list."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from slimcore.errors import ConfigError
from slimcore.penalties import bn_consumers

from conftest import EXPECTED_CONSUMERS, UntraceableNet


@pytest.mark.parametrize("cls", list(EXPECTED_CONSUMERS))
def test_bn_consumers(cls):
    assert bn_consumers(cls()) == EXPECTED_CONSUMERS[cls]


def test_bn_consumers_needs_a_traceable_model():
    with pytest.raises(ConfigError, match="torch.fx"):
        bn_consumers(UntraceableNet())


class _After(nn.Module):
    """conv → BN → `between` → conv: whether the second conv is the BN's consumer depends on `between` alone."""

    def __init__(self, between: nn.Module) -> None:
        super().__init__()
        self.c1, self.bn, self.between, self.c2 = nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), between, \
            nn.Conv2d(4, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c2(self.between(self.bn(self.c1(x))))


@pytest.mark.parametrize("between, consumers", [
    (nn.ReLU(), ["c2"]), (nn.MaxPool2d(2), ["c2"]), (nn.Identity(), ["c2"]),
    (nn.ReLU6(), []), (nn.Hardswish(), []), (nn.Sigmoid(), []),  # not positively homogeneous: a scale would not pass
])
def test_only_ops_that_commute_with_a_positive_scale_are_walked_through(between, consumers):
    assert bn_consumers(_After(between)) == {"bn": consumers}


def test_a_bn_called_twice_or_read_by_a_shared_layer_has_no_consumers():
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c1, self.bn, self.c2 = nn.Conv2d(4, 4, 1, bias=False), nn.BatchNorm2d(4), nn.Conv2d(4, 4, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.c2(self.c2(torch.relu(self.bn(self.c1(x)))))  # c2 runs twice

    assert bn_consumers(Twice()) == {"bn": []}
