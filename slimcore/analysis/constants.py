"""Where a removed BN channel's constant output lands: the convs/linears that read it, and what it becomes on the way.

A BN channel with γ = 0 outputs the constant β; after its activation and any pooling it is still a constant
(Ye et al., ICLR 2018, §3), which the consuming layer can fold into its bias. This module finds, per BN, every
consumer reached only through elementwise activations, pooling, flatten and dropout, with the walker it shares
with `consumers` (which asks a narrower question: ops that commute with a positive scale, so no ReLU6).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from slimcore.analysis.fxwalk import Traced, reach_consumers, trace
from slimcore.pruning.math.absorb import ConstantUse

# Elementwise activations: a constant stays a constant, changed by the function itself.
_ACT_MODULES = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.Hardtanh, nn.SiLU, nn.Hardswish, nn.GELU, nn.Sigmoid,
                nn.Tanh, nn.ELU)
_ACT_FUNCTIONS = {F.relu: torch.relu, torch.relu: torch.relu, F.relu6: F.relu6, torch.sigmoid: torch.sigmoid,
                  torch.tanh: torch.tanh, F.silu: F.silu, F.hardswish: F.hardswish, F.gelu: F.gelu}
_ACT_METHODS = {"relu": torch.relu, "relu_": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}
# Ops under which a constant channel stays the same constant (max/avg of equal values, dropout in eval).
_SAME_MODULES = (nn.MaxPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Dropout, nn.Dropout2d, nn.Identity)
_SAME_FUNCTIONS = {F.max_pool2d, F.adaptive_avg_pool2d, F.adaptive_max_pool2d, F.dropout, F.dropout2d}
_SAME_METHODS = {"contiguous"}


def _step(node: fx.Node, modules: dict[str, nn.Module]):
    """('act', fn) | ('same', None) | ('flatten', None) | None (the constant does not survive this op)."""
    if node.op == "call_module":
        m = modules.get(node.target)
        if isinstance(m, _ACT_MODULES):
            return "act", (lambda x, m=m: m(x.clone()))
        if isinstance(m, _SAME_MODULES):
            return "same", None
        if isinstance(m, nn.AvgPool2d) and (m.padding in (0, (0, 0)) or not m.count_include_pad):
            return "same", None  # zero padding counted in the mean would break the constant at the border
        if isinstance(m, nn.Flatten) and m.start_dim == 1 and m.end_dim == -1:
            return "flatten", None
        return None
    if node.op == "call_function":
        if node.target in _ACT_FUNCTIONS and len(node.args) == 1:
            return "act", _ACT_FUNCTIONS[node.target]
        if node.target is F.leaky_relu or node.target is F.hardtanh:
            args, kwargs = node.args[1:], {k: v for k, v in node.kwargs.items() if k != "inplace"}
            if any(isinstance(a, fx.Node) for a in [*args, *kwargs.values()]):
                return None
            return "act", (lambda x, f=node.target, a=args, k=kwargs: f(x, *a, **k))
        if node.target in _SAME_FUNCTIONS:
            return "same", None
        if node.target is torch.flatten and tuple(node.args[1:]) in ((1,), (1, -1)) and not node.kwargs:
            return "flatten", None
        return None
    if node.op == "call_method":
        if node.target in _ACT_METHODS and len(node.args) == 1:
            return "act", _ACT_METHODS[node.target]
        if node.target in _SAME_METHODS:
            return "same", None
        if node.target == "flatten" and tuple(node.args[1:]) in ((1,), (1, -1)):
            return "flatten", None
    return None


def _fold_target(node: fx.Node, traced: Traced) -> str | None:
    """The BN right after consumer conv `node`, if it alone reads the conv: the constant folds into its mean."""
    users = list(node.users)
    if len(users) == 1 and isinstance(traced.module(users[0]), nn.BatchNorm2d):
        if traced.calls[users[0].target] == 1 and users[0].args and users[0].args[0] is node:
            return users[0].target
    return None


def _keeps_constant(traced: Traced):
    """The walk's rule: (activations applied so far, flattened yet) through ops that keep a channel constant."""
    def through(node: fx.Node, src: fx.Node, state: tuple[tuple, bool]):
        step = _step(node, traced.modules)
        if step is None:
            return None
        chain, flat = state
        kind, fn = step
        return chain + ((fn,) if kind == "act" else ()), flat or kind == "flatten"
    return through


def _uses(traced: Traced, bn_node: fx.Node) -> list[ConstantUse] | None:
    bn = traced.modules[bn_node.target]
    reached = reach_consumers(traced, bn_node, _keeps_constant(traced), ((), False))
    if not reached:
        return None
    uses = []
    for r in reached:
        consumer = traced.modules[r.node.target]
        chain, flat = r.state
        if isinstance(consumer, nn.Conv2d) == flat:  # a conv after a flatten, or a linear on a feature map
            return None
        spread = 0
        if isinstance(consumer, nn.Linear):
            if consumer.in_features % bn.num_features:
                return None
            spread = consumer.in_features // bn.num_features
        fold = _fold_target(r.node, traced) if isinstance(consumer, nn.Conv2d) else None
        uses.append(ConstantUse(bn_node.target, r.node.target, chain, spread, fold))
    consumers = [u.consumer for u in uses]
    return uses if len(set(consumers)) == len(consumers) else None


def constant_uses(model: nn.Module) -> dict[str, list[ConstantUse]]:
    """BN name → how its channels reach their consumers, for every BN whose output reaches only convs/linears."""
    traced = trace(model, "absorbing removed channels")
    result: dict[str, list[ConstantUse]] = {}
    for name, m in traced.modules.items():
        if isinstance(m, nn.BatchNorm2d):
            node = traced.single_call(name)
            uses = _uses(traced, node) if node is not None else None
            if uses:
                result[name] = uses
    return result
