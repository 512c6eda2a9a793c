"""Layer shapes of a model, read off one forward pass: what the MACs formula needs for every conv and linear."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from slimcore.pruning.math.flops import LayerShape


def shape_of(name: str, module: nn.Module, output: torch.Tensor) -> LayerShape:
    """The LayerShape of a conv or linear `module` that produced `output` (batch first)."""
    if isinstance(module, nn.Conv2d):
        return LayerShape(name, "conv", module.in_channels, module.out_channels, module.groups,
                          int(np.prod(module.kernel_size)), int(output.shape[-2] * output.shape[-1]))
    return LayerShape(name, "linear", module.in_features, module.out_features, 1, 1,
                      int(np.prod(output.shape[1:-1], dtype=np.int64)) or 1)


def layer_shapes(model: nn.Module, input_shape: tuple[int, ...], example: torch.Tensor | None = None
                 ) -> list[LayerShape]:
    """Every conv/linear the forward pass runs, with its output positions, from one batch-1 pass in eval mode
    (of zeros, or of `example`: a batch of the model's own dtype and device)."""
    shapes: dict[str, LayerShape] = {}

    def hook(name: str):
        def record(m: nn.Module, inputs, output) -> None:
            shapes[name] = shape_of(name, m, output)
        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    modes = {m: m.training for m in model.modules()}  # restored one by one: train(True) would flip eval BNs
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, *input_shape) if example is None else example[:1])
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes.items():
            m.training = mode
    return list(shapes.values())
