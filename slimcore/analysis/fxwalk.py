"""The one torch.fx walker: from a BN's output, through ops a caller accepts, to the convs and linears that read it.

Two questions are answered with it: which layers can be rescaled with a BN (`consumers`: ops that commute with
a positive per-channel scale) and where a removed channel's constant lands (`constants`: ops under which a
constant stays a constant). Each passes its own rule for the ops in between; the walk, the tracing and the
checks on the consumers are shared.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

from torch import fx, nn

from slimcore.errors import ConfigError
from slimcore.pruning.math.bias_map import BiasMapConv2d

S = TypeVar("S")
CONSUMER_TYPES = (nn.Conv2d, nn.Linear)
# Uses that read only a tensor's shape, never its values.
_SHAPE_METHODS = {"size", "dim"}


@dataclass(frozen=True)
class Traced:
    """A model's fx graph, its modules by name, and how many times the forward pass calls each module."""

    graph: fx.Graph
    modules: dict[str, nn.Module]
    calls: Counter

    def single_call(self, name: str) -> fx.Node | None:
        """The graph node of module `name` when the forward pass calls it exactly once, else None."""
        if self.calls[name] != 1:
            return None
        return next(n for n in self.graph.nodes if n.op == "call_module" and n.target == name)

    def module(self, node: fx.Node) -> nn.Module | None:
        return self.modules.get(node.target) if node.op == "call_module" else None


class _Tracer(fx.Tracer):
    """torch.fx's tracer with a cut model's BiasMapConv2d kept as one call, as a torch.nn conv is: its forward
    checks the map's size, which a symbolic shape cannot answer (a cut model is analysed again to cut it again)."""

    def is_leaf_module(self, m: nn.Module, qualified_name: str) -> bool:
        return isinstance(m, BiasMapConv2d) or super().is_leaf_module(m, qualified_name)


def trace(model: nn.Module, needed_for: str) -> Traced:
    """Traces `model` with torch.fx; an untraceable model is a ConfigError saying what needed the trace."""
    try:
        graph = _Tracer().trace(model)
    except Exception as e:  # fx raises many types (TraceError, TypeError, NotImplementedError...)
        first = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
        raise ConfigError(f"cannot trace {type(model).__name__} with torch.fx ({first}); {needed_for} needs a "
                          "traceable model.") from None
    calls = Counter(node.target for node in graph.nodes if node.op == "call_module")
    return Traced(graph, dict(model.named_modules()), calls)


def data_only(node: fx.Node, src: fx.Node) -> bool:
    """The tensor from `src` is the op's first argument and nothing else refers to it (not a shape argument)."""
    return bool(node.args) and node.args[0] is src and not any(
        a is src for a in [*node.args[1:], *node.kwargs.values()])


def reads_shape_only(node: fx.Node) -> bool:
    if node.op == "call_method" and node.target in _SHAPE_METHODS:
        return True
    return node.op == "call_function" and node.target is getattr and node.args[1:2] == ("shape",)


@dataclass(frozen=True)
class Reached(Generic[S]):
    """A consumer the walk reached: its node, the node whose output it reads, and the walk's state there."""

    node: fx.Node
    src: fx.Node
    state: S


def reach_consumers(traced: Traced, start: fx.Node, through: Callable[[fx.Node, fx.Node, S], S | None],
                    state: S) -> list[Reached[S]] | None:
    """Every conv/linear the output of `start` reaches; None as soon as a path ends anywhere else.

    `through(op, src, state)` decides an op between: the new state to walk on with, or None when the value does
    not survive it (a residual add, a concatenation, the model's output...). A consumer must read the value as
    its only input and be called once (a shared layer cannot be changed for one producer alone).
    """
    found: list[Reached[S]] = []
    stack = [(start, state)]
    while stack:
        src, at = stack.pop()
        for user in src.users:
            if reads_shape_only(user):
                continue
            if isinstance(traced.module(user), CONSUMER_TYPES):
                if not data_only(user, src) or traced.calls[user.target] != 1:
                    return None
                found.append(Reached(user, src, at))
                continue
            after = through(user, src, at) if data_only(user, src) else None
            if after is None:
                return None
            stack.append((user, after))
    return found
