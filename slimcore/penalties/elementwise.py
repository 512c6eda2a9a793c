"""Shared hooks of the penalties that act on each BN γ alone: a subgradient after backward or a prox after the step."""
from __future__ import annotations

import torch
from torch import nn

from slimcore.penalties.base import Penalty, PenaltyContext, bn_layers


class GammaPenalty(Penalty):
    """λ·Σ R(γ) over every BN layer; subclasses give value, prox and grad."""

    # SGD's momentum β, read when the optimizer is built; 0 (a plain step) until then.
    momentum: float = 0.0

    def optimizer_groups(self, model: nn.Module, lr: float, momentum: float,
                         weight_decay: float) -> list[dict] | None:
        """Proximal mode: every BN γ in its own group, with SGD's momentum but without weight decay (which would
        add an ℓ2 term to the objective), and a prox step scaled to the momentum (`prox_step`)."""
        self.momentum = float(momentum)
        if self.mode != "proximal":
            return None
        gammas = [bn.weight for _, bn in bn_layers(model) if bn.weight is not None and bn.weight.requires_grad]
        ids = {id(g) for g in gammas}
        rest = [p for p in model.parameters() if p.requires_grad and id(p) not in ids]
        return [{"params": rest, "lr": lr, "momentum": momentum, "weight_decay": weight_decay},
                {"params": gammas, "lr": lr, "momentum": momentum, "weight_decay": 0.0}]

    def prox_step(self, lr: float) -> float:
        """The step of the prox, lr / (1 − β): γ ← argmin_y ½(y − γ)² + (lr / (1 − β))·λ·R(y) after a heavy-ball
        step has exactly the fixed points of L + λ·R (the dead zone's half-width is t = λ·lr / (1 − β)). At a fixed point the velocity is ∇L / (1 − β), so the step before
        the prox is lr·∇L / (1 − β); the prox's optimality condition then reads ∇L + (1 − β)·(t/lr)·λ·∂R ∋ 0,
        which is L + λ·R only for t = lr / (1 − β). With t = lr (the textbook step, right without momentum) it
        is L + (1 − β)·λ·R: a tenth of λ at β = 0.9. The same scaling makes a proximal step shrink γ as fast as
        network slimming's subgradient λ·sign(γ) does through the momentum, so the two modes at the same λ
        minimise the same objective at the same pace."""
        return float(lr) / (1.0 - self.momentum)

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
        """Proximal mode: γ ← prox(γ, lr / (1 − β)), which sets small γ exactly to 0."""
        if self.mode != "proximal" or self.lam == 0:
            return
        step = self.prox_step(ctx.lr)
        with torch.no_grad():
            for _, bn in bn_layers(model):
                if bn.weight is not None and bn.weight.requires_grad:
                    bn.weight.copy_(self.prox(bn.weight, step))
