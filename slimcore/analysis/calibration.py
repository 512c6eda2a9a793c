"""What each layer reads, on average, in the trained network: the probe behind exact channel removal.

A forward pre-hook on every conv and linear layer sums its input over a batch of samples; the mean at each
position is what `slimcore.pruning.math.compensate` gives back to a consumer whose input channels are removed.
For a channel whose γ is 0 every sample gives the same map there, so the mean is that map exactly.
"""
from __future__ import annotations

import copy
from typing import Iterable, Mapping

import numpy as np
import torch
from torch import nn

from slimcore.pruning.math.compensate import MeanInputCompensation


@torch.no_grad()
def mean_inputs(model: nn.Module, batches: Iterable[torch.Tensor], names: Iterable[str] | None = None
                ) -> dict[str, torch.Tensor]:
    """{layer: mean input (C×H×W for a conv, F for a linear)} over the samples of `batches`, in eval mode; the
    model's modes are left as they were. `names`: the layers to watch (default every conv and linear)."""
    watched = set(names) if names is not None else None
    sums: dict[str, torch.Tensor] = {}
    counts: dict[str, int] = {}

    def hook(name: str):
        def record(module: nn.Module, inputs: tuple) -> None:
            x = inputs[0].detach().double()
            flat = x.reshape(-1, x.shape[-1]) if isinstance(module, nn.Linear) else x
            sums[name] = sums.get(name, 0) + flat.sum(dim=0)
            counts[name] = counts.get(name, 0) + flat.shape[0]
        return record

    handles = [m.register_forward_pre_hook(hook(n)) for n, m in model.named_modules()
               if isinstance(m, (nn.Conv2d, nn.Linear)) and (watched is None or n in watched)]
    modes = {m: m.training for m in model.modules()}
    try:
        model.eval()
        for x in batches:
            model(x)
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes.items():
            m.training = mode
    return {name: (total / counts[name]).float() for name, total in sums.items()}



class ExactBetaCompensation:
    """Each removed channel taken as γ = 0, so that it outputs its β, carried exactly to every consumer (through
    activations, pooling, residual adds, concatenations, depthwise convs and their zero padding): Ye et al.'s
    absorption (ICLR 2018, §3) without its approximations. Exact when the removed γ are 0; needs no data (a
    constant does not depend on the input, so one all-zero input reads it)."""

    name = "beta-exact"

    def __init__(self, input_shape: tuple[int, ...]) -> None:
        self.input_shape = tuple(input_shape)

    def apply(self, model: nn.Module, removed: Mapping[tuple[str, str], np.ndarray]) -> None:
        probe = copy.deepcopy(model).eval()
        modules = dict(probe.named_modules())
        with torch.no_grad():
            for (name, kind), channels in removed.items():
                if kind == "bn":
                    modules[name].weight[torch.as_tensor(channels, dtype=torch.long)] = 0
        consumers = [name for (name, kind), channels in removed.items() if kind == "in" and len(channels)]
        means = mean_inputs(probe, [torch.zeros(1, *self.input_shape)], consumers)
        MeanInputCompensation(means).apply(model, removed)
