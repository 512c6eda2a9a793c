"""MACs of a pruned network computed from its widths alone (FLOPs = 2 × MACs, as torch's FlopCounterMode counts).

Conv: k_h·k_w·(C_in/groups)·C_out·H_out·W_out; linear: in·out per token. Output sizes come from one forward
pass of the unpruned model: pruning changes widths, never spatial sizes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class LayerShape:
    """A conv or linear layer of the unpruned model, and how many output positions it computes per sample."""

    name: str
    kind: str  # "conv" or "linear"
    in_channels: int
    out_channels: int
    groups: int
    kernel: int  # k_h·k_w (1 for linear)
    positions: int  # H_out·W_out for a conv, tokens for a linear


def layer_shapes(model: nn.Module, input_shape: tuple[int, ...]) -> list[LayerShape]:
    """Every conv/linear the forward pass runs, with its output positions, from one batch-1 pass."""
    shapes: dict[str, LayerShape] = {}

    def hook(name: str):
        def record(m: nn.Module, inputs, output) -> None:
            if isinstance(m, nn.Conv2d):
                shapes[name] = LayerShape(name, "conv", m.in_channels, m.out_channels, m.groups,
                                          int(np.prod(m.kernel_size)), int(output.shape[-2] * output.shape[-1]))
            else:
                shapes[name] = LayerShape(name, "linear", m.in_features, m.out_features, 1, 1,
                                          int(np.prod(output.shape[1:-1], dtype=np.int64)) or 1)
        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    modes = {m: m.training for m in model.modules()}  # restored one by one: train(True) would flip eval BNs
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, *input_shape))
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes.items():
            m.training = mode
    return list(shapes.values())


def layer_macs(shape: LayerShape, removed_out: int = 0, removed_in: int = 0, removed_tied: int = 0) -> int:
    """MACs of one layer for one sample after removing output, input or tied (depthwise) channels."""
    out_c = shape.out_channels - removed_out - removed_tied
    in_c = shape.in_channels - removed_in - removed_tied
    groups = shape.groups - removed_tied if removed_tied else shape.groups
    return shape.kernel * (in_c // groups) * out_c * shape.positions


def network_macs(shapes: list[LayerShape], removed: dict[tuple[str, str], np.ndarray] | None = None) -> int:
    """Total MACs per sample; `removed` maps (layer, kind) to removed indices (kinds: out, in, dw)."""
    removed = removed or {}
    total = 0
    for s in shapes:
        total += layer_macs(s, len(removed.get((s.name, "out"), ())), len(removed.get((s.name, "in"), ())),
                            len(removed.get((s.name, "dw"), ())))
    return int(total)
