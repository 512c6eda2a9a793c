"""Small, exact experiments the Learn page draws: what a penalty's two modes, ISTA's γ–W rescaling and TPP's
decorrelation do, each computed with the penalty classes training uses (no re-implementation of their math).

The toy data term in `mode_race` is ½·Σ(γ − c)², with c = 1 for useful channels and 0 for useless ones: the
stand-in for a loss gradient that holds the useful γ up, so the penalty alone decides how the rest end."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from slimcore.penalties.base import PenaltyContext, bn_layers


def toy_targets(n: int, useful_share: float = 0.5) -> np.ndarray:
    """c of `mode_race`: the first ⌈useful_share·n⌉ channels useful (1), the others useless (0)."""
    c = np.zeros(n)
    c[: int(np.ceil(useful_share * n))] = 1.0
    return c


def mode_race(penalty, t: float, steps: int, start: np.ndarray, targets: np.ndarray, lr: float = 0.1
              ) -> dict[str, np.ndarray]:
    """{"subgradient", "proximal"} → γ after each step, shape (steps + 1, n), from the same `start`.

    Both take the data step γ ← γ − lr·(γ − c). Subgradient mode then steps along −t·∂R(γ) (network slimming's
    update): it overshoots 0 and oscillates around it, never landing on it. Proximal mode replaces γ by
    prox_t(γ) (`penalty` built with λ = 1, so t is the whole step): inside the dead zone that is exactly 0."""
    out = {}
    for mode in ("subgradient", "proximal"):
        g = torch.as_tensor(np.asarray(start, dtype=np.float64))
        c = torch.as_tensor(np.asarray(targets, dtype=np.float64))
        path = [g.numpy().copy()]
        for _ in range(int(steps)):
            g = g - lr * (g - c)
            g = g - t * penalty.grad(g) if mode == "subgradient" else penalty.prox(g, t)
            path.append(g.numpy().copy())
        out[mode] = np.stack(path)
    return out


class _Tiny(nn.Module):
    """conv → BN → ReLU → conv → BN → ReLU → pool → linear: enough for ISTA's consumers and TPP's convs."""

    def __init__(self) -> None:
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
        self.c2, self.b2 = nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.b1(self.c1(x)))
        x = torch.relu(self.b2(self.c2(x)))
        return self.fc(x.mean((2, 3)))


def _tiny(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    model = _Tiny().eval()
    with torch.no_grad():
        for _, bn in bn_layers(model):
            bn.weight.uniform_(0.2, 1.0)
    return model


@dataclass(frozen=True)
class RescalingRace:
    alpha: float
    output_change: float  # max |Δ output| of the rescaled network against the original (the same function)
    zero_share: np.ndarray  # share of γ exactly 0 after each ISTA step (no data gradient)


def ista_rescaling_race(alphas, lam: float = 0.03, gamma_lr: float = 0.1, steps: int = 60, seed: int = 0
                        ) -> list[RescalingRace]:
    """For each α: Ye et al.'s γ–W rescaling (γ, β ×α, consumers ÷α) by `IstaPenalty.setup`, checked to keep the
    function, then ISTA's soft-threshold steps alone: a smaller α starts γ smaller, so the same threshold
    μ·λ·ρ zeroes them in fewer steps."""
    from slimcore.penalties import get

    x = torch.randn(4, 1, 8, 8, generator=torch.Generator().manual_seed(seed))
    races = []
    for alpha in alphas:
        model = _tiny(seed)
        with torch.no_grad():
            before = model(x)
        penalty = get("ista", lam=lam, gamma_lr=gamma_lr, alpha=float(alpha))
        ctx = PenaltyContext(step=0, epoch=0, total_steps=steps, lr=gamma_lr, sample_input=x[:1])
        penalty.setup(model, ctx)
        penalty.optimizer_groups(model, gamma_lr, 0.9, 0.0)
        with torch.no_grad():
            change = float((model(x) - before).abs().max())
        shares = []
        for _ in range(int(steps)):
            penalty.after_step(model, ctx)
            gamma = torch.cat([bn.weight.detach() for _, bn in bn_layers(model)])
            shares.append(float((gamma == 0).float().mean()))
        races.append(RescalingRace(float(alpha), change, np.asarray(shares)))
    return races


@dataclass(frozen=True)
class GramFade:
    before: np.ndarray  # |W Wᵀ| of the conv's filters (rows normalised by the largest entry) at the start
    after: np.ndarray  # the same after the steps
    keep: np.ndarray  # True for the filters TPP keeps
    chosen_norm: np.ndarray  # mean ‖w‖ of the chosen filters after each step
    kept_norm: np.ndarray  # mean ‖w‖ of the kept filters after each step


def tpp_gram_fade(steps: int = 100, lam: float = 0.3, ratio: float = 0.5, lr: float = 0.05, seed: int = 0
                  ) -> GramFade:
    """TPP's own term (`TppPenalty`: decorrelation of the chosen filters from all others through the Gram matrix,
    and an ℓ2 pull on them) applied alone by SGD to the second conv of a small network: the chosen filters' Gram
    entries and norms fade to 0 while the kept block of the Gram matrix is left alone."""
    from slimcore.penalties import get

    model = _tiny(seed).train()
    x = torch.randn(2, 1, 8, 8, generator=torch.Generator().manual_seed(seed))
    penalty = get("tpp", lam=lam, ratio=ratio, lam_step=0.0)
    ctx = PenaltyContext(step=0, epoch=0, total_steps=steps, lr=lr, sample_input=x[:1])
    penalty.setup(model, ctx)
    keep = penalty.masks["c2"].numpy().copy()
    conv = model.c2
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    def gram() -> np.ndarray:
        w = conv.weight.detach().flatten(1)
        return (w @ w.T).abs().numpy()

    before = gram()
    chosen, kept = [], []
    for step in range(int(steps)):
        optimizer.zero_grad(set_to_none=False)
        for p in model.parameters():
            p.grad = torch.zeros_like(p)
        ctx.step = step
        penalty.after_backward(model, ctx)
        optimizer.step()
        norms = conv.weight.detach().flatten(1).norm(dim=1).numpy()
        chosen.append(float(norms[~keep].mean()))
        kept.append(float(norms[keep].mean()))
    scale = float(before.max()) or 1.0
    return GramFade(before / scale, gram() / scale, keep, np.asarray(chosen), np.asarray(kept))


def run_step(config: dict) -> float:
    """The prox step t a training run took: λ·lr / (1 − β) (`GammaPenalty.prox_step`), at its starting lr."""
    lam, lr, momentum = float(config.get("lam") or 0.0), float(config.get("lr") or 0.0), float(config.get("momentum") or 0.0)
    return lam * lr / (1.0 - momentum)


__all__ = ["GramFade", "RescalingRace", "ista_rescaling_race", "mode_race", "run_step", "toy_targets",
           "tpp_gram_fade"]
