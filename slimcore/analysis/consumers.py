"""Which convs/linears read a BN's output through ops that commute with a positive per-channel scale.

Scaling a BN's γ and β by α > 0 can then be undone by dividing those layers' weights by α (Ye et al., ICLR
2018, §3.2: ReLU is positively homogeneous; pooling and reshapes are linear). ReLU6 and hardswish are not, so
they end the walk.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from slimcore.analysis.fxwalk import Traced, reach_consumers, trace

_PASS_MODULES = (nn.ReLU, nn.LeakyReLU, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d,
                 nn.Flatten, nn.Dropout, nn.Dropout2d, nn.Identity)
_PASS_FUNCTIONS = {F.relu, torch.relu, torch.relu_, F.relu_, F.leaky_relu, F.max_pool2d, F.avg_pool2d,
                   F.adaptive_avg_pool2d, F.adaptive_max_pool2d, torch.flatten, F.dropout, F.dropout2d}
_PASS_METHODS = {"relu", "relu_", "flatten", "view", "reshape", "contiguous"}


def _commutes(traced: Traced):
    def through(node: fx.Node, src: fx.Node, state: bool):
        if node.kwargs.get("return_indices", False):
            return None
        if node.op == "call_module":
            ok = isinstance(traced.module(node), _PASS_MODULES)
        elif node.op == "call_function":
            ok = node.target in _PASS_FUNCTIONS
        else:
            ok = node.op == "call_method" and node.target in _PASS_METHODS
        return state if ok else None
    return through


def bn_consumers(model: nn.Module) -> dict[str, list[str]]:
    """BN name → names of the Conv2d/Linear modules whose input is exactly that BN's (ReLU'd, pooled) output.

    The list is empty when the BN output also reaches anything else (a residual add, a concatenation, the model's
    output) or when the BN is not used once. Raises ConfigError when torch.fx cannot trace the model.
    """
    traced = trace(model, "finding which layers consume a BN's output")
    through = _commutes(traced)
    result: dict[str, list[str]] = {}
    for name, m in traced.modules.items():
        if not isinstance(m, nn.BatchNorm2d):
            continue
        node = traced.single_call(name)
        reached = reach_consumers(traced, node, through, True) if node is not None else None
        result[name] = sorted({r.node.target for r in reached}) if reached else []
    return result
