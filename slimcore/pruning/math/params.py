"""Parameter count of a pruned network from its widths alone: what `sum(p.numel() for p in model.parameters())`
gives for the model `slimcore.analysis.structure.pruned_model` builds from a plan.

Per layer, the cut leaves a conv C_out·(C_in/groups)·k_h·k_w weights (the MACs formula of
`slimcore.pruning.math.flops` at one output position), a linear in·out, a BN 2·C (γ and β; running statistics
are buffers). A bias keeps one entry per kept output channel; compensation (`slimcore.pruning.math.compensate`)
gives every layer that loses input channels a bias if it had none, so a layer has a bias after the cut when it
had one before or lost an input channel. A per-position bias map is a buffer, not a parameter. Everything else
(layers the plan never touches) is a constant.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slimcore.pruning.math.flops import LayerShape, layer_macs


@dataclass(frozen=True)
class ParamLayer:
    """A conv, linear or BN layer of the unpruned model, as far as its parameter count goes."""

    name: str
    kind: str  # "conv", "linear" or "bn"
    in_channels: int  # a BN's width for "bn"
    out_channels: int
    groups: int = 1
    kernel: int = 1  # k_h·k_w (1 for linear and BN)
    bias: bool = False  # a conv or linear layer's own bias before the cut (a BN always has γ and β)


def layer_params(layer: ParamLayer, removed_out: int = 0, removed_in: int = 0, removed_tied: int = 0,
                 removed_bn: int = 0) -> int:
    """Parameters of one layer after the cut: `removed_*` are how many of its channels of each kind
    (out, in, dw: a depthwise conv's tied in/out, bn) the plan removes."""
    if layer.kind == "bn":
        return 2 * (layer.out_channels - removed_bn)
    shape = LayerShape(layer.name, layer.kind, layer.in_channels, layer.out_channels, layer.groups, layer.kernel, 1)
    weights = layer_macs(shape, removed_out, removed_in, removed_tied)
    kept_out = layer.out_channels - removed_out - removed_tied
    return weights + (kept_out if layer.bias or removed_in else 0)


def network_params(layers: list[ParamLayer], removed: dict[tuple[str, str], np.ndarray] | None = None,
                   fixed: int = 0) -> int:
    """Total parameters after removing `removed` ((layer, kind) → removed indices); `fixed` counts the rest."""
    removed = removed or {}

    def n(name: str, kind: str) -> int:
        return len(removed.get((name, kind), ()))

    return int(fixed + sum(layer_params(p, n(p.name, "out"), n(p.name, "in"), n(p.name, "dw"), n(p.name, "bn"))
                           for p in layers))

