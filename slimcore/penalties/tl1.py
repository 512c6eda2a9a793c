"""The transformed ℓ1 penalty ρ_a (Bui et al. 2020; prox by Zhang & Xin 2018)."""
from __future__ import annotations

import torch
from torch import Tensor

from slimcore.penalties.base import PENALTIES, check_open_range
from slimcore.penalties.elementwise import GammaPenalty
from slimcore.penalties.thresholding import tl1_threshold


@PENALTIES.register("tl1")
class TransformedL1Penalty(GammaPenalty):
    """Transformed ℓ1 on BN γ (Bui et al. 2020): λ·(a+1)|γ|/(a+|γ|), → ℓ0 as a → 0, → ℓ1 as a → ∞."""

    name = "tl1"

    def __init__(self, lam: float = 1e-4, a: float = 1.0, mode: str | None = None) -> None:
        super().__init__(lam, mode)
        self.a = check_open_range(a, "a", 0.0)

    def value(self, x: Tensor) -> Tensor:
        ax = x.abs()
        return self.lam * (self.a + 1.0) * ax / (self.a + ax)

    def prox(self, x: Tensor, step: float) -> Tensor:
        return tl1_threshold(x, step * self.lam, self.a)

    def grad(self, x: Tensor) -> Tensor:
        # λ·a(a+1)·sign(γ)/(a+|γ|)², algorithms.md §2.
        a = self.a
        return self.lam * a * (a + 1.0) * torch.sign(x) / (a + x.abs()) ** 2

    def params(self) -> dict:
        return {**super().params(), "a": self.a}
