"""MACs of a pruned network computed from its widths alone (FLOPs = 2 × MACs, as torch's FlopCounterMode counts).

Conv: k_h·k_w·(C_in/groups)·C_out·H_out·W_out; linear: in·out per token. This is the one MACs formula of the
project: the pruning preview, the FLOPs budget of a selection, and ISTA's per-layer weights all use it. The
output sizes come from one forward pass of the unpruned model (`slimcore.analysis.shapes`): pruning changes
widths, never spatial sizes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
