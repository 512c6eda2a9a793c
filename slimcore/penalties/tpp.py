"""TPP, trainability preserving pruning (Wang & Fu, ICLR 2023): decorrelate and fade the filters chosen to go.

As TPP's public code (MingSun-Tse/TPP, `--prune_method opp --opp_scheme v5`) does it: per conv, the ⌈r·n⌉
filters of smallest ℓ1 norm are chosen once at the start (at most int(0.995·n), so never all); the Gram term is
the mean over the conv's n² entries of (WWᵀ)² where a chosen filter takes part, weighted by `gram_weight`·λ
(their `lw_opp` = 1000); the chosen filters' weights, biases and BN γ, β get a growing ℓ2 pull λ·p on their
gradients. Convs whose outputs meet in a residual add are left out (TPP's released scripts prune only the convs
inside a block; its group option is off by default), so a mask never splits a channel group. TPP starts λ at 0
and adds 1e-4 every 10 steps up to 1 over ~10⁵ steps; the short runs here start it at `lam` (0.3 by default).
"""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from slimcore.errors import ConfigError
from slimcore.penalties.base import PENALTIES, Penalty, PenaltyContext
from slimcore.analysis.conv_bn import conv_bn_pairs
from slimcore.penalties.params import Param, mode_param


@PENALTIES.register("tpp")
class TppPenalty(Penalty):
    """TPP (Wang & Fu 2023): fix the smallest-ℓ1 filters per conv, push their Gram entries, weights and BN γ, β to 0, λ growing."""

    name = "tpp"
    parameters = (
        Param("ratio", float, 0.5, "share of filters per conv chosen for removal at the start (smallest ℓ1 norm)",
              low=0, high=1, low_open=True, high_open=True),
        Param("lam_step", float, 1e-4, "λ grows by this every lam_every steps", low=0),
        Param("lam_every", int, 10, "steps between λ increments", low=1),
        Param("lam_max", float, 1.0, "ceiling of the growing λ (at least the starting λ)", low=0),
        Param("gram_weight", float, 1000.0, "weight of the Gram term against the ℓ2 term (TPP's lw_opp)", low=0),
        mode_param("subgradient"),
    )
    default_lam = 0.3

    def __init__(self, lam: float | None = None, **values: Any) -> None:
        super().__init__(lam, **values)
        self.current_lam = self.lam
        self.masks: dict[str, Tensor] = {}  # conv name → bool keep-mask over its filters (True = kept)
        self.bn_of: dict[str, str] = {}  # conv name → the BN that normalises its output

    def check_parameters(self) -> None:
        if self.lam_max < self.lam:
            raise ConfigError(f"penalty 'tpp': lam_max ({self.lam_max:g}) must be >= the starting lam "
                              f"({self.lam:g}); raise lam_max or lower lam.")

    def lam_at(self, step: int) -> float:
        """λ at a global step: +lam_step every lam_every steps, capped at lam_max (TPP/GReg's growing λ)."""
        return min(self.lam + self.lam_step * (step // self.lam_every), self.lam_max)

    # elementwise: the ℓ2 pull TPP puts on the chosen filters and their BN γ, β, ½·λ·x², at the current λ
    def value(self, x: Tensor) -> Tensor:
        return 0.5 * self.current_lam * x * x

    def prox(self, x: Tensor, step: float) -> Tensor:
        return x / (1.0 + step * self.current_lam)

    def grad(self, x: Tensor) -> Tensor:
        return self.current_lam * x

    @property
    def bn_masks(self) -> dict[str, Tensor]:
        """BN name → bool keep-mask over its channels."""
        return {self.bn_of[c]: m for c, m in self.masks.items()}

    # -- hooks ---------------------------------------------------------------------------------
    def setup(self, model: nn.Module, ctx: PenaltyContext) -> None:
        """Per conv followed by a BN and alone in its channel group, marks its `pruned_count` filters of smallest
        ℓ1 norm for removal; convs tied to others through a residual add are left out."""
        from slimcore.analysis.graph import channel_groups

        if ctx is None or ctx.sample_input is None:
            raise ValueError("the tpp penalty needs ctx.sample_input to find which conv feeds which BN")
        modules = dict(model.named_modules())
        tied = {it.module for g in channel_groups(model, ctx.sample_input)
                if "add" in g.ties or sum(1 for it in g.items if it.kind == "out") > 1
                for it in g.items if it.kind == "out"}
        self.masks, self.bn_of = {}, {}
        for pair in conv_bn_pairs(model, ctx.sample_input):
            if pair.conv is None or pair.conv in self.masks or pair.conv in tied:
                continue
            w = modules[pair.conv].weight.detach()
            n_out = w.shape[0]
            order = torch.argsort(w.flatten(1).abs().sum(1).cpu(), stable=True)
            keep = torch.ones(n_out, dtype=torch.bool)
            keep[order[:pruned_count(self.ratio, n_out)]] = False
            self.masks[pair.conv] = keep
            self.bn_of[pair.conv] = pair.bn
        self.current_lam = self.lam_at(ctx.step)

    def _terms(self, model: nn.Module):
        modules = dict(model.named_modules())
        for conv_name, keep in self.masks.items():
            if bool(keep.all()):
                continue
            yield modules[conv_name], modules[self.bn_of[conv_name]], keep

    def penalty_value(self, model: nn.Module) -> Tensor:
        """The TPP term at the current λ, differentiable: Σ_conv λ·w_g·mean((WWᵀ)² ⊙ (1 − mmᵀ)) (Wang & Fu 2023,
        Eq. 3, as their code's mse_loss against the Gram matrix with the chosen rows and columns zeroed) plus
        ½·λ·Σ over the chosen filters of their weights², bias² and BN γ², β²."""
        total: Tensor | None = None
        for conv, bn, keep in self._terms(model):
            w = conv.weight.flatten(1)
            k = keep.to(w.device, w.dtype)
            off = 1.0 - torch.outer(k, k)  # every Gram entry touching a chosen filter
            term = self.gram_weight * ((w @ w.T) * off).pow(2).sum() / w.shape[0] ** 2
            pruned = ~keep.to(w.device)
            for p in (conv.weight, conv.bias, bn.weight, bn.bias):
                if p is not None:
                    term = term + 0.5 * p[pruned].pow(2).sum()
            total = term if total is None else total + term
        if total is None:
            return torch.zeros(())
        return self.current_lam * total

    def after_backward(self, model: nn.Module, ctx: PenaltyContext) -> None:
        """Adds ∂/∂W = 4·λ·w_g/n²·((WWᵀ)⊙(1−mmᵀ))W to conv grads, and λ·p to the chosen filters' weights, biases
        and BN γ, β (GReg's growing regularisation, which TPP's code applies to the gradients)."""
        self.current_lam = lam = self.lam_at(ctx.step)
        if lam == 0:
            return
        with torch.no_grad():
            for conv, bn, keep in self._terms(model):
                w = conv.weight.flatten(1)
                k = keep.to(w.device, w.dtype)
                g = 4.0 * lam * self.gram_weight / w.shape[0] ** 2 * (((w @ w.T) * (1.0 - torch.outer(k, k))) @ w)
                pruned = (~keep).to(w.device, w.dtype)
                g = g + lam * w * pruned[:, None]
                _add_grad(conv.weight, g.view_as(conv.weight))
                for p in (conv.bias, bn.weight, bn.bias):
                    if p is not None:
                        _add_grad(p, lam * p * pruned)

    def state_dict(self) -> dict[str, Any]:
        return {"masks": {k: v.clone() for k, v in self.masks.items()}, "bn_of": dict(self.bn_of),
                "lam": self.current_lam}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.masks = {k: torch.as_tensor(v, dtype=torch.bool).clone() for k, v in state["masks"].items()}
        self.bn_of = dict(state["bn_of"])
        self.current_lam = float(state["lam"])


def pruned_count(ratio: float, n: int) -> int:
    """How many of a conv's n filters TPP chooses: ⌈ratio·n⌉, at most int(0.995·n) (TPP's prune_utils: "to avoid
    pruning all"; n − 1 for n < 200). The 1e-9 keeps 0.3·10 = 3.0000000000000004 at 3."""
    return min(math.ceil(ratio * n - 1e-9), int(n * 0.995))


def _add_grad(p: Tensor, g: Tensor) -> None:
    if not p.requires_grad:
        return
    if p.grad is None:
        p.grad = g.clone()
    else:
        p.grad.add_(g)
