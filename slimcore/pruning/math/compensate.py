"""Putting back what removed channels contributed, so that removing a constant channel changes nothing.

A channel whose γ is 0 outputs a constant, β; whatever lies between its BN and a consumer (activations, pooling,
residual adds, concatenations, a depthwise conv and its zero padding), the consumer reads an input-independent
map there. Ye et al. (ICLR 2018, §3) fold that constant into the consumer's bias. Done exactly, the consumer's
response to the removed channels' input is what it would have computed from them: its own convolution of
that input map, padding included. It is uniform (one bias per output channel) for a 1×1 conv or a linear layer,
and differs at the border for a padded conv (a per-position bias, `BiasMapConv2d`).

The input map is read off the trained network by a probe (`slimcore.analysis.calibration`): any input gives a
constant channel's value exactly; for channels that are not exactly constant, the mean over training data is
the least-squares best constant at each position.

Three methods, for comparison: `MeanInputCompensation` (the above), `BetaAbsorption` (act(β) into the consumer's
bias as if every position read it, the approximation Ye et al. describe; it gives up at adds and
concatenations), `NoCompensation` (an outright cut).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from slimcore.pruning.math.absorb import ConstantUse, absorb
from slimcore.pruning.math.bias_map import BiasMapConv2d, replace_module, with_bias_map

Removed = Mapping[tuple[str, str], np.ndarray]
# A map whose spread over positions is below this share of its size is one bias per channel.
UNIFORM_RTOL = 1e-6


def response(module: nn.Module, mean_input: torch.Tensor, channels: np.ndarray) -> torch.Tensor:
    """What `module` computes from input channels `channels` alone, when they hold `mean_input` (C×H×W for a
    conv, F for a linear): C_out×H_out×W_out or F_out, no bias."""
    idx = torch.as_tensor(channels, dtype=torch.long)
    w = module.weight.detach()
    if isinstance(module, nn.Linear):
        return w[:, idx] @ mean_input[idx].to(w.dtype)
    if module.groups != 1:
        raise ValueError(f"a grouped convolution ({module.groups} groups) removes its inputs with its outputs")
    x = mean_input[idx].to(w.dtype).unsqueeze(0)
    return F.conv2d(x, w[:, idx], None, module.stride, module.padding, module.dilation)[0]


def add_response(model: nn.Module, name: str, contribution: torch.Tensor) -> None:
    """Adds `contribution` to what layer `name` outputs: into its bias where it is uniform over positions (a bias
    is made if there is none), the rest as a per-position map."""
    module = model.get_submodule(name)
    with torch.no_grad():
        if contribution.dim() == 3:
            uniform = contribution.mean(dim=(1, 2))
            rest = contribution - uniform[:, None, None]
            scale = float(contribution.abs().max()) or 1.0
            if float(rest.abs().max()) > UNIFORM_RTOL * scale:
                if not isinstance(module, BiasMapConv2d):
                    module = with_bias_map(module, torch.zeros_like(rest))
                    replace_module(model, name, module)
                module.bias_map.add_(rest)
        else:
            uniform = contribution
        if module.bias is None:
            module.bias = nn.Parameter(torch.zeros(module.weight.shape[0], dtype=module.weight.dtype,
                                                   device=module.weight.device))
        module.bias.add_(uniform.to(module.bias.dtype))


class MeanInputCompensation:
    """Each consumer gets its response to the mean input (per position) it read at the removed channels."""

    name = "mean-input"

    def __init__(self, mean_inputs: Mapping[str, torch.Tensor]) -> None:
        self.mean_inputs = dict(mean_inputs)

    def apply(self, model: nn.Module, removed: Removed) -> None:
        for (name, kind), channels in sorted(removed.items()):
            if kind != "in" or len(channels) == 0:
                continue  # a depthwise conv's removed input goes with its output, a BN's or producer's with it
            module = model.get_submodule(name)
            add_response(model, name, response(module, self.mean_inputs[name], channels))


class BetaAbsorption:
    """act(β) of each removed channel into its consumers' biases, as if every position read it (Ye et al.'s
    approximation: inexact at zero-padded borders, and dropped where the channel meets an add or a concat)."""

    name = "beta"

    def __init__(self, uses: Mapping[str, list[ConstantUse]]) -> None:
        self.uses = dict(uses)

    def apply(self, model: nn.Module, removed: Removed) -> None:
        absorb(model, self.uses, removed)


class NoCompensation:
    """Nothing put back: the removed channels' contribution is simply lost (an outright cut)."""

    name = "none"

    def apply(self, model: nn.Module, removed: Removed) -> None:
        return None
