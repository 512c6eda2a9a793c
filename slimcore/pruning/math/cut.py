"""Two ways to drop a plan's channels from a compensated model: zero their weights (the masked model, the tests'
oracle) or remove them for real with Torch-Pruning's layer functions. Both read the same (layer, kind, indices)."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn



def mask(model: nn.Module, removed: dict[tuple[str, str], np.ndarray]) -> None:
    """Zeroes, in place, every weight that belongs to a removed channel (filters, BN γ/β, consumer inputs, biases)."""
    modules = dict(model.named_modules())
    with torch.no_grad():
        for (name, kind), idx in removed.items():
            m = modules[name]
            index = torch.as_tensor(idx, dtype=torch.long)
            if kind in ("out", "bn", "dw"):
                m.weight[index] = 0
                if m.bias is not None:
                    m.bias[index] = 0
                if getattr(m, "bias_map", None) is not None:
                    m.bias_map[index] = 0
            elif kind == "in":
                m.weight[:, index] = 0


def cut(model: nn.Module, removed: dict[tuple[str, str], np.ndarray]) -> None:
    """Physically removes the channels, in place, with Torch-Pruning's per-layer pruning functions.

    Indices are in the unpruned model's coordinates and each (layer, kind) is cut once with all of its indices,
    so the order of the cuts does not matter.
    """
    import torch_pruning as tp

    modules = dict(model.named_modules())
    for (name, kind), idx in sorted(removed.items()):
        m, idxs = modules[name], [int(i) for i in idx]
        if kind == "bn":
            tp.prune_batchnorm_out_channels(m, idxs)
        elif kind == "dw":
            tp.prune_depthwise_conv_out_channels(m, idxs)
        elif isinstance(m, nn.Conv2d):
            (tp.prune_conv_out_channels if kind == "out" else tp.prune_conv_in_channels)(m, idxs)
        else:
            (tp.prune_linear_out_channels if kind == "out" else tp.prune_linear_in_channels)(m, idxs)
        if kind in ("out", "dw") and getattr(m, "bias_map", None) is not None:
            keep = torch.as_tensor(sorted(set(range(m.bias_map.shape[0])) - set(idxs)), dtype=torch.long)
            m.bias_map = m.bias_map[keep].clone()  # Torch-Pruning cuts weight and bias; the map is ours
