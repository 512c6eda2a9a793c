"""The transformed ℓ1 penalty ρ_a (Bui et al. 2020; prox by Zhang & Xin 2018)."""
from __future__ import annotations

import torch
from torch import Tensor

from slimcore.penalties.base import PENALTIES
from slimcore.penalties.elementwise import GammaPenalty
from slimcore.penalties.params import Param, mode_param
from slimcore.penalties.thresholding import tl1_threshold


@PENALTIES.register("tl1")
class TransformedL1Penalty(GammaPenalty):
    """Transformed ℓ1 on BN γ (Bui et al. 2020): λ·(a+1)|γ|/(a+|γ|), → ℓ0 as a → 0, → ℓ1 as a → ∞."""

    name = "tl1"
    parameters = (
        Param("a", float, 1.0, "shape of (a+1)|γ|/(a+|γ|): small a behaves like ℓ0, large a like ℓ1", low=0,
              low_open=True, in_formula=True, suggestions=(0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0)),
        mode_param("subgradient", "proximal", default="proximal"),
    )
    default_lam = 0.01

    def value(self, x: Tensor) -> Tensor:
        ax = x.abs()
        return self.lam * (self.a + 1.0) * ax / (self.a + ax)

    def prox(self, x: Tensor, step: float) -> Tensor:
        return tl1_threshold(x, step * self.lam, self.a)

    def grad(self, x: Tensor) -> Tensor:
        # d/dγ of λ(a+1)|γ|/(a+|γ|), the transformed ℓ1 of Bui et al. 2020: λ·a(a+1)·sign(γ)/(a+|γ|)².
        a = self.a
        return self.lam * a * (a + 1.0) * torch.sign(x) / (a + x.abs()) ** 2
