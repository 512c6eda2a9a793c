"""Which convs/linears read a BN's output directly (through ReLU, pooling, flatten, dropout only), by torch.fx."""
from __future__ import annotations

from collections import defaultdict

import torch
import torch.nn.functional as F
from torch import fx, nn

from slimcore.errors import ConfigError

# Ops that commute with a positive per-channel scale (ReLU is positively homogeneous, pooling and reshapes are
# linear); scaling a BN by α > 0 can be undone in the convs past them. ReLU6/hardswish are not, so they stop it.
_PASS_MODULES = (nn.ReLU, nn.LeakyReLU, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d,
                 nn.Flatten, nn.Dropout, nn.Dropout2d, nn.Identity)
_PASS_FUNCTIONS = {F.relu, torch.relu, torch.relu_, F.relu_, F.leaky_relu, F.max_pool2d, F.avg_pool2d,
                   F.adaptive_avg_pool2d, F.adaptive_max_pool2d, torch.flatten, F.dropout, F.dropout2d}
_PASS_METHODS = {"relu", "relu_", "flatten", "view", "reshape", "contiguous"}
# Uses that read only a tensor's shape, never its values.
_SHAPE_METHODS = {"size", "dim"}
_CONSUMER_MODULES = (nn.Conv2d, nn.Linear)


def _trace(model: nn.Module) -> fx.Graph:
    try:
        return fx.symbolic_trace(model).graph
    except Exception as e:  # fx raises many types (TraceError, TypeError, NotImplementedError...)
        first = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
        raise ConfigError(f"cannot trace {type(model).__name__} with torch.fx ({first}); finding which layers "
                          f"consume a BN's output needs a traceable model.") from None


def _is_shape_use(node: fx.Node) -> bool:
    if node.op == "call_method" and node.target in _SHAPE_METHODS:
        return True
    return node.op == "call_function" and node.target is getattr and node.args[1:2] == ("shape",)


def _is_passthrough(node: fx.Node, src: fx.Node, modules: dict[str, nn.Module]) -> bool:
    if not node.args or node.args[0] is not src or node.kwargs.get("return_indices", False):
        return False
    # the BN-derived tensor must be the op's data input only, not e.g. a shape argument
    if any(a is src for a in node.args[1:]) or any(v is src for v in node.kwargs.values()):
        return False
    if node.op == "call_module":
        return isinstance(modules.get(node.target), _PASS_MODULES)
    if node.op == "call_function":
        return node.target in _PASS_FUNCTIONS
    if node.op == "call_method":
        return node.target in _PASS_METHODS
    return False


def _follow(bn_node: fx.Node, modules: dict[str, nn.Module], calls: dict[str, int]) -> list[str] | None:
    """Consumer names reached from bn_node, or None if any path ends elsewhere (add, cat, output...)."""
    found: list[str] = []
    stack = [bn_node]
    while stack:
        src = stack.pop()
        for user in src.users:
            if _is_shape_use(user):
                continue
            if user.op == "call_module" and isinstance(modules.get(user.target), _CONSUMER_MODULES):
                # a shared conv called on other inputs too cannot be rescaled for this BN alone
                if user.args[0] is not src or len(user.args) != 1 or user.kwargs or calls[user.target] != 1:
                    return None
                found.append(user.target)
            elif _is_passthrough(user, src, modules):
                stack.append(user)
            else:
                return None
    return sorted(set(found))


def bn_consumers(model: nn.Module) -> dict[str, list[str]]:
    """BN name → names of the Conv2d/Linear modules whose input is exactly that BN's (ReLU'd, pooled) output.

    The list is empty when the BN output also reaches anything else (a residual add, a concatenation, the model's
    output) or when the BN is not used once. Raises ConfigError when torch.fx cannot trace the model.
    """
    graph = _trace(model)
    modules = dict(model.named_modules())
    calls: dict[str, int] = defaultdict(int)
    for node in graph.nodes:
        if node.op == "call_module":
            calls[node.target] += 1
    result: dict[str, list[str]] = {}
    for name, m in modules.items():
        if not isinstance(m, nn.BatchNorm2d):
            continue
        nodes = [n for n in graph.nodes if n.op == "call_module" and n.target == name]
        consumers = _follow(nodes[0], modules, calls) if len(nodes) == 1 else None
        result[name] = consumers or []
    return result

