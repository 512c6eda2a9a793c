"""A convolution with a per-position bias: where a removed channel's constant input meets zero padding, the
consumer's response to it differs at the border, so one bias per output channel cannot carry it exactly."""
from __future__ import annotations

import torch
from torch import nn


class BiasMapConv2d(nn.Conv2d):
    """Conv2d whose output gains `bias_map` (C_out × H_out × W_out): the exact response, border included, to the
    input channels pruning removed. It holds for the output size it was made for only, and says so otherwise."""

    def __init__(self, *args, map_size: tuple[int, int] = (1, 1), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.register_buffer("bias_map", torch.zeros(self.out_channels, *map_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = super().forward(x)
        if tuple(y.shape[-2:]) != tuple(self.bias_map.shape[-2:]):
            raise ValueError(f"this pruned model was cut for inputs that give {tuple(self.bias_map.shape[-2:])} maps "
                             f"here, not {tuple(y.shape[-2:])}: the compensation of its removed channels is exact "
                             "per position, so use it at the input size it was trained at.")
        return y + self.bias_map


def with_bias_map(conv: nn.Conv2d, bias_map: torch.Tensor) -> BiasMapConv2d:
    """A BiasMapConv2d with `conv`'s settings and weights and the given map."""
    new = BiasMapConv2d(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                        padding=conv.padding, dilation=conv.dilation, groups=conv.groups, bias=conv.bias is not None,
                        padding_mode=conv.padding_mode, map_size=tuple(bias_map.shape[-2:]),
                        device=conv.weight.device, dtype=conv.weight.dtype)
    with torch.no_grad():
        new.weight.copy_(conv.weight)
        if conv.bias is not None:
            new.bias.copy_(conv.bias)
        new.bias_map.copy_(bias_map)
    new.train(conv.training)
    return new


def replace_module(model: nn.Module, name: str, module: nn.Module) -> None:
    """Puts `module` where `name` is in `model` (same qualified name)."""
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, module)
