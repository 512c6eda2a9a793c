"""Proximal maps prox_t(x) = argmin_y ½(y−x)² + t·R(y) for the sparsity penalties, elementwise and pure."""
from __future__ import annotations

import math

import torch
from torch import Tensor

# Newton steps for the ℓp root; from z = |x| they converge monotonically and quadratically (h is convex).
_LP_NEWTON_STEPS = 30


def _check_step(t: float) -> float:
    t = float(t)
    if not math.isfinite(t) or t < 0:
        raise ValueError(f"the prox step t must be finite and >= 0, got {t!r}")
    return t


def soft_threshold(x: Tensor, t: float) -> Tensor:
    """prox of t·|y|: sign(x)·max(|x| − t, 0) (the ℓ1 shrinkage of ISTA)."""
    t = _check_step(t)
    return torch.sign(x) * torch.clamp(x.abs() - t, min=0.0)


def half_tau(t: float) -> float:
    """Threshold of the ℓ1/2 prox: (3/2)·t^(2/3) (Xu et al. 2012 with the ½ of our objective)."""
    return 1.5 * _check_step(t) ** (2.0 / 3.0)


def half_threshold(x: Tensor, t: float) -> Tensor:
    """prox of t·|y|^(1/2): Xu et al.'s closed-form half thresholding (cubic root by the cosine formula)."""
    t = _check_step(t)
    ax = x.abs()
    keep = ax > half_tau(t)
    safe = torch.where(keep, ax, torch.ones_like(ax))  # keeps pow/arccos finite where the result is 0 anyway
    # Xu et al. 2012, Thm 1, rewritten for ½(y−x)² + t|y|^½ (their λ = 2t): φ = arccos((t/4)(|x|/3)^(−3/2)).
    phi = torch.arccos(torch.clamp((t / 4.0) * (safe / 3.0) ** -1.5, -1.0, 1.0))
    y = (2.0 / 3.0) * x * (1.0 + torch.cos(2.0 * math.pi / 3.0 - (2.0 / 3.0) * phi))
    return torch.where(keep, y, torch.zeros_like(x))


def lp_tau(t: float, p: float) -> float:
    """Threshold of the ℓp prox (Zuo et al. 2013, GISA): below it 0 is the global minimiser."""
    t = _check_step(t)
    if t == 0.0:
        return 0.0
    base = 2.0 * t * (1.0 - p)
    return base ** (1.0 / (2.0 - p)) + t * p * base ** ((p - 1.0) / (2.0 - p))


def lp_threshold(x: Tensor, t: float, p: float) -> Tensor:
    """prox of t·|y|^p, 0 < p < 1, by generalized iterated shrinkage: 0 up to τ, else the root of z + t·p·z^(p−1) = |x|."""
    t = _check_step(t)
    if not 0.0 < p < 1.0:
        raise ValueError(f"lp_threshold needs 0 < p < 1, got {p!r}")
    if t == 0.0:
        return x.clone()
    ax = x.abs()
    keep = ax > lp_tau(t, p)
    z = torch.where(keep, ax, torch.ones_like(ax))
    target = z.clone()
    # Newton on h(z) = z + t·p·z^(p−1) − |x| from z = |x|: h is convex and h(|x|) > 0, so the iterates fall
    # monotonically onto the larger root, which is the minimiser (Zuo et al. 2013, Thm 1).
    # Quadratic convergence: 4–7 steps reach a few ulps, so each entry stops after its first step under that
    # (the fixed count cost ~10 % of a default training step; benchmarks/results/penalty_overhead.md). Stopping
    # per entry, not when the whole tensor has converged, keeps an entry's result independent of its neighbours.
    tol = 4.0 * torch.finfo(z.dtype).eps
    active = keep.clone()  # entries returned as 0 need no root
    for _ in range(_LP_NEWTON_STEPS):
        h = z + t * p * z ** (p - 1.0) - target
        dh = 1.0 - t * p * (1.0 - p) * z ** (p - 2.0)
        step = torch.where(active, h / dh, torch.zeros_like(z))
        z = z - step
        active &= step.abs() > tol * z
        if not bool(active.any()):
            break
    return torch.where(keep, torch.sign(x) * z, torch.zeros_like(x))


def tl1_tau(t: float, a: float) -> float:
    """Threshold of the transformed-ℓ1 prox (Zhang & Xin 2018), in its two regimes of t."""
    t = _check_step(t)
    if t <= a * a / (2.0 * (a + 1.0)):
        return t * (a + 1.0) / a
    return math.sqrt(2.0 * t * (a + 1.0)) - a / 2.0


def tl1_threshold(x: Tensor, t: float, a: float) -> Tensor:
    """prox of t·(a+1)|y|/(a+|y|), a > 0: Zhang & Xin's closed form (a cubic solved by the cosine formula)."""
    t = _check_step(t)
    if not a > 0:
        raise ValueError(f"tl1_threshold needs a > 0, got {a!r}")
    ax = x.abs()
    keep = ax > tl1_tau(t, a)
    safe = torch.where(keep, ax, torch.ones_like(ax))
    # Zhang & Xin 2018, Thm 3.1: φ = arccos(1 − 27·t·a(a+1) / (2(a+|x|)³)).
    phi = torch.arccos(torch.clamp(1.0 - 27.0 * t * a * (a + 1.0) / (2.0 * (a + safe) ** 3), -1.0, 1.0))
    z = (2.0 / 3.0) * (a + safe) * torch.cos(phi / 3.0) - 2.0 * a / 3.0 + safe / 3.0
    return torch.where(keep, torch.sign(x) * z, torch.zeros_like(x))
