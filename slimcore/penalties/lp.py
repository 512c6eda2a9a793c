"""The ℓp quasi-norm penalty, 0 < p < 1 (Bui et al. 2020)."""
from __future__ import annotations

import torch
from torch import Tensor

from slimcore.penalties.base import PENALTIES, check_open_range
from slimcore.penalties.elementwise import GammaPenalty
from slimcore.penalties.thresholding import half_threshold, lp_threshold

# Keeps the subgradient finite at γ = 0, where |γ|^(p−1) blows up (Bui et al. 2020; algorithms.md §2).
LP_EPS = 1e-8


@PENALTIES.register("lp")
class LpPenalty(GammaPenalty):
    """ℓp on BN γ, 0 < p < 1 (Bui et al. 2020): λ·|γ|^p, nearer ℓ0 than ℓ1; p = 1/2 or 3/4 as in the paper."""

    name = "lp"

    def __init__(self, lam: float = 1e-4, p: float = 0.5, mode: str | None = None) -> None:
        super().__init__(lam, mode)
        self.p = check_open_range(p, "p", 0.0, 1.0)

    def value(self, x: Tensor) -> Tensor:
        return self.lam * x.abs() ** self.p

    def prox(self, x: Tensor, step: float) -> Tensor:
        # p = 1/2 has a closed form (Xu et al. 2012); other p use generalized iterated shrinkage (Zuo et al. 2013).
        if self.p == 0.5:
            return half_threshold(x, step * self.lam)
        return lp_threshold(x, step * self.lam, self.p)

    def grad(self, x: Tensor) -> Tensor:
        # λ·p·sign(γ)·(|γ|+ε)^(p−1), algorithms.md §2.
        return self.lam * self.p * torch.sign(x) * (x.abs() + LP_EPS) ** (self.p - 1.0)

    def params(self) -> dict:
        return {**super().params(), "p": self.p}
