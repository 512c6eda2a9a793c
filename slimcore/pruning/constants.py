"""Where a removed BN channel's constant output lands: the convs/linears that read it, and what it becomes on the way.

A BN channel with γ = 0 outputs the constant β; after its activation and any pooling it is still a constant
(Ye et al., ICLR 2018, §3), which the consuming layer can fold into its bias. This module finds, per BN, every
consumer reached only through elementwise activations, pooling, flatten and dropout. `penalties.bn_consumers`
answers a narrower question (ops that commute with a positive scale, so no ReLU6) and is not reused here.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import fx, nn

from slimcore.errors import ConfigError

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


@dataclass(frozen=True)
class ConstantUse:
    """BN `bn`'s channels reach `consumer` through `chain`; after a flatten each channel spans `spread` inputs."""

    bn: str
    consumer: str
    chain: tuple[Callable[[torch.Tensor], torch.Tensor], ...]
    spread: int  # 0: a conv input channel per BN channel; k ≥ 1: k consecutive linear inputs per channel
    fold_into: str | None  # a BN right after the consumer conv: the constant folds into its running mean

    def constant(self, beta: torch.Tensor) -> torch.Tensor:
        """What the consumer sees for channels whose γ is 0: the activations applied to β."""
        value = beta.detach().clone()
        for fn in self.chain:
            value = fn(value)
        return value


def _trace(model: nn.Module) -> fx.Graph:
    try:
        return fx.symbolic_trace(model).graph
    except Exception as e:  # fx raises many types (TraceError, TypeError, NotImplementedError...)
        first = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
        raise ConfigError(f"cannot trace {type(model).__name__} with torch.fx ({first}); absorbing removed "
                          "channels needs a traceable model.") from None


def _data_only(node: fx.Node, src: fx.Node) -> bool:
    """The tensor from `src` is the op's first argument and nothing else refers to it."""
    return bool(node.args) and node.args[0] is src and not any(
        a is src for a in [*node.args[1:], *node.kwargs.values()])


def _step(node: fx.Node, src: fx.Node, modules: dict[str, nn.Module]):
    """('act', fn) | ('same', None) | ('flatten', None) | None (the constant does not survive this op)."""
    if not _data_only(node, src):
        return None
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


def _fold_target(node: fx.Node, modules: dict[str, nn.Module], calls: dict[str, int]) -> str | None:
    users = list(node.users)
    if len(users) == 1 and users[0].op == "call_module" and isinstance(modules.get(users[0].target), nn.BatchNorm2d):
        if calls[users[0].target] == 1 and _data_only(users[0], node):
            return users[0].target
    return None


def _follow(bn_node: fx.Node, modules: dict[str, nn.Module], calls: dict[str, int]) -> list[ConstantUse] | None:
    bn = modules[bn_node.target]
    uses: list[ConstantUse] = []
    stack = [(bn_node, (), False)]
    while stack:
        src, chain, flat = stack.pop()
        for user in src.users:
            target = modules.get(user.target) if user.op == "call_module" else None
            if isinstance(target, (nn.Conv2d, nn.Linear)):
                if not _data_only(user, src) or calls[user.target] != 1 or isinstance(target, nn.Conv2d) == flat:
                    return None
                spread = 0
                if isinstance(target, nn.Linear):
                    if target.in_features % bn.num_features:
                        return None
                    spread = target.in_features // bn.num_features
                fold = _fold_target(user, modules, calls) if isinstance(target, nn.Conv2d) else None
                uses.append(ConstantUse(bn_node.target, user.target, chain, spread, fold))
                continue
            step = _step(user, src, modules)
            if step is None:
                return None  # a residual add, a concatenation, the output...: not a constant we can fold
            kind, fn = step
            stack.append((user, chain + ((fn,) if kind == "act" else ()), flat or kind == "flatten"))
    consumers = [u.consumer for u in uses]
    return uses if uses and len(set(consumers)) == len(consumers) else None


def constant_uses(model: nn.Module) -> dict[str, list[ConstantUse]]:
    """BN name → how its channels reach their consumers, for every BN whose output reaches only convs/linears."""
    graph = _trace(model)
    modules = dict(model.named_modules())
    calls: dict[str, int] = defaultdict(int)
    for node in graph.nodes:
        if node.op == "call_module":
            calls[node.target] += 1
    result: dict[str, list[ConstantUse]] = {}
    for node in graph.nodes:
        if node.op == "call_module" and isinstance(modules.get(node.target), nn.BatchNorm2d):
            if calls[node.target] != 1:
                continue
            uses = _follow(node, modules, calls)
            if uses:
                result[node.target] = uses
    return result
