"""Shared hooks of the penalties that act on each BN γ alone: a subgradient after backward or a prox after the step."""
from __future__ import annotations

import torch
from torch import nn

from slimcore.penalties.base import Penalty, PenaltyContext, bn_layers


class GammaPenalty(Penalty):
    """λ·Σ R(γ) over every BN layer; subclasses give value, prox and grad."""

    def after_backward(self, model: nn.Module, ctx: PenaltyContext) -> None:
        """Subgradient mode: γ.grad += λ·∂R(γ) (network slimming's update, Liu et al. 2017)."""
        if self.mode != "subgradient" or self.lam == 0:
            return
        with torch.no_grad():
            for _, bn in bn_layers(model):
                w = bn.weight
                if w is None or not w.requires_grad:
                    continue
                g = self.grad(w)
                if w.grad is None:
                    w.grad = g
                else:
                    w.grad.add_(g)

    def after_step(self, model: nn.Module, ctx: PenaltyContext) -> None:
        """Proximal mode: γ ← prox(γ, lr), which sets small γ exactly to 0."""
        if self.mode != "proximal" or self.lam == 0:
            return
        with torch.no_grad():
            for _, bn in bn_layers(model):
                if bn.weight is not None and bn.weight.requires_grad:
                    bn.weight.copy_(self.prox(bn.weight, ctx.lr))
