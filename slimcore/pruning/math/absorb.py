"""Absorbing removed channels' constant output into the layers that read them (Ye et al., ICLR 2018, §3).

A channel whose γ is 0 outputs act(β) everywhere. For every removed channel of a BN whose output reaches only
convs/linears, that constant moves into each consumer: bias_o += c·Σ W[o, k] (a bias is added where there was
none), or, when the consumer conv feeds a BN, that BN's running mean drops by the same amount. Then the channel
can be cut, or its weights zeroed, without changing what the consumers compute (except at zero-padded borders,
where the real network saw zeros, not c, for the padded taps).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class ConstantUse:
    """BN `bn`'s channels reach `consumer` through `chain`; after a flatten each channel spans `spread` inputs.

    Found by `slimcore.analysis.constants`; `absorb` folds the constants along it.
    """

    bn: str
    consumer: str
    chain: tuple[Callable[[torch.Tensor], torch.Tensor], ...]
    spread: int  # 0: a conv input channel per BN channel; k ≥ 1: k consecutive linear inputs per channel
    fold_into: str | None  # a BN right after the consumer conv: the constant folds into its running mean

    def constant(self, beta: torch.Tensor) -> torch.Tensor:
        """What the consumer sees for channels whose γ is 0: the activations applied to β."""
        value = beta.detach().clone()
        for fn in self.chain:
            value = fn(value)
        return value


def _conv_shift(conv: nn.Conv2d, channels: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Σ_k c_k·Σ_{kh,kw} W[o, k] for every output o (input channel k only reaches its own group's outputs)."""
    w = conv.weight.detach().sum(dim=(2, 3))  # (C_out, C_in / groups)
    if conv.groups == 1:
        return w[:, channels] @ values
    in_per, out_per = conv.in_channels // conv.groups, conv.out_channels // conv.groups
    shift = torch.zeros(conv.out_channels, dtype=w.dtype, device=w.device)
    for k, c in zip(channels.tolist(), values):
        g, local = divmod(k, in_per)
        rows = slice(g * out_per, (g + 1) * out_per)
        shift[rows] += c * w[rows, local]
    return shift


def _linear_shift(linear: nn.Linear, channels: torch.Tensor, values: torch.Tensor, spread: int) -> torch.Tensor:
    # after a flatten, channel k occupies inputs k·spread … k·spread + spread − 1
    w = linear.weight.detach().reshape(linear.out_features, -1, spread).sum(dim=2)
    return w[:, channels] @ values


def absorb(model: nn.Module, uses: dict[str, list[ConstantUse]],
           removed: Mapping[tuple[str, str], np.ndarray]) -> list[str]:
    """Folds every removed BN channel's constant into its consumers, in place; returns layers given a new bias."""
    modules = dict(model.named_modules())
    added: list[str] = []
    with torch.no_grad():
        for bn_name, bn_uses in uses.items():
            idx = removed.get((bn_name, "bn"))
            if idx is None or len(idx) == 0:
                continue
            channels = torch.as_tensor(idx, dtype=torch.long)
            beta = modules[bn_name].bias.detach()[channels]
            for use in bn_uses:
                values = use.constant(beta)
                if not bool(torch.any(values != 0)):
                    continue
                consumer = modules[use.consumer]
                if isinstance(consumer, nn.Conv2d):
                    shift = _conv_shift(consumer, channels, values.to(consumer.weight.dtype))
                else:
                    shift = _linear_shift(consumer, channels, values.to(consumer.weight.dtype), use.spread)
                if use.fold_into is not None:
                    modules[use.fold_into].running_mean.sub_(shift.to(modules[use.fold_into].running_mean.dtype))
                elif consumer.bias is not None:
                    consumer.bias.add_(shift)
                elif _reaches_kept_output(consumer, use.consumer, shift, removed):
                    consumer.bias = nn.Parameter(shift.clone())
                    added.append(use.consumer)
    return added


def _reaches_kept_output(consumer: nn.Module, name: str, shift: torch.Tensor,
                         removed: Mapping[tuple[str, str], np.ndarray]) -> bool:
    """Whether the shift touches an output that survives (a depthwise conv's shifted outputs are cut with it)."""
    gone = set()
    for kind in ("out", "dw"):
        gone.update(int(i) for i in removed.get((name, kind), ()))
    nonzero = torch.nonzero(shift).flatten().tolist()
    return any(o not in gone for o in nonzero)
