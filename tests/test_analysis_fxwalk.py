"""The one torch.fx walker (`slimcore.analysis.fxwalk`): from a BN's output through the ops a rule accepts to every
conv/linear that reads it; an add, a shared layer or a second use of the value ends the walk; shape-only reads
are not uses."""
from __future__ import annotations

import pytest
import torch
from torch import fx, nn

from slimcore.analysis.fxwalk import data_only, reach_consumers, trace
from slimcore.errors import ConfigError


def walk(model: nn.Module, through=None, state=0):
    """Consumers (name, source op, state) reached from module `bn`, with a rule that passes every op and counts."""
    traced = trace(model, "this test")
    rule = through or (lambda node, src, n: n + 1)
    reached = reach_consumers(traced, traced.single_call("bn"), rule, state)
    return None if reached is None else sorted((r.node.target, r.src.name, r.state) for r in reached)


class Chain(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bn, self.conv, self.fc = nn.BatchNorm2d(4), nn.Conv2d(4, 4, 1), nn.Linear(4, 2)

    def forward(self, x):
        y = torch.relu(self.bn(x))
        a = self.conv(y)  # read directly after one op
        b = self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(y, 1), 1))  # after three
        return a.sum() + b.sum()


def test_every_consumer_is_found_with_the_state_the_rule_built_on_the_way():
    assert walk(Chain()) == [("conv", "relu", 1), ("fc", "flatten", 3)]


def test_the_rule_ends_the_walk():
    refuse_pool = lambda node, src, n: None if "pool" in node.name else n  # noqa: E731
    assert walk(Chain(), refuse_pool) is None


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bn, self.conv = nn.BatchNorm2d(4), nn.Conv2d(4, 4, 1)

    def forward(self, x):
        y = self.bn(x)
        return self.conv(y) + y  # y also reaches the add, where the rule below does not let it through


def test_a_value_that_also_reaches_an_add_has_no_consumers():
    only_relu = lambda node, src, n: n if node.target is torch.relu else None  # noqa: E731
    assert walk(Residual(), only_relu) is None


class ShapeReads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bn, self.fc = nn.BatchNorm2d(4), nn.Linear(4 * 9, 2)

    def forward(self, x):
        y = self.bn(x)
        n = y.size(0)  # shape-only uses: neither a consumer nor the end of the walk
        c = y.shape[1]
        return self.fc(y.reshape(n, c * 9))


def test_shape_only_reads_are_skipped_but_a_shape_argument_is_not_a_data_use():
    assert walk(ShapeReads()) == [("fc", "reshape", 1)]
    traced = trace(ShapeReads(), "this test")
    reshape = next(n for n in traced.graph.nodes if n.target == "reshape")
    size = next(n for n in traced.graph.nodes if n.target == "size")
    assert data_only(reshape, reshape.args[0]) and not data_only(reshape, size)


class Shared(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bn, self.conv = nn.BatchNorm2d(4), nn.Conv2d(4, 4, 1)

    def forward(self, x):
        return self.conv(self.conv(self.bn(x)))  # the consumer is called twice


class TwiceBN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bn, self.conv = nn.BatchNorm2d(4), nn.Conv2d(4, 4, 1)

    def forward(self, x):
        return self.conv(self.bn(self.bn(x)))


def test_a_layer_called_twice_is_refused_as_a_consumer_and_has_no_single_call():
    assert walk(Shared()) is None
    traced = trace(TwiceBN(), "this test")
    assert traced.calls["bn"] == 2 and traced.single_call("bn") is None
    assert traced.single_call("conv").target == "conv"


def test_a_consumer_reading_the_value_as_a_second_argument_ends_the_walk():
    class AsWeight(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bn = nn.BatchNorm2d(4)

        def forward(self, x):
            y = self.bn(x)
            return torch.mul(x, y)  # y is not the first argument

    assert walk(AsWeight()) is None


def test_an_untraceable_model_is_a_config_error_saying_what_needed_the_trace():
    class Branchy(nn.Module):
        def forward(self, x):
            return x * 2 if x.sum() > 0 else x

    with pytest.raises(ConfigError, match=r"^cannot trace Branchy with torch.fx \(.+\); absorbing constants needs a "
                                          r"traceable model\.$"):
        trace(Branchy(), "absorbing constants")
    assert isinstance(trace(Chain(), "x").graph, fx.Graph)


def test_a_cut_models_bias_map_conv_is_one_call_so_a_cut_model_can_be_analysed_again():
    from slimcore.pruning.math.bias_map import BiasMapConv2d

    class Cut(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bn, self.conv = nn.BatchNorm2d(4), BiasMapConv2d(4, 3, 3, padding=1, map_size=(5, 5))

        def forward(self, x):
            return self.conv(torch.relu(self.bn(x)))

    traced = trace(Cut(), "this test")
    assert [n.target for n in traced.graph.nodes if n.op == "call_module"] == ["bn", "conv"]
    assert walk(Cut()) == [("conv", "relu", 1)]
