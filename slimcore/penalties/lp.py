"""The ℓp quasi-norm penalty, 0 < p < 1 (Bui et al. 2020)."""
from __future__ import annotations

import torch
from torch import Tensor

from slimcore.penalties.base import PENALTIES
from slimcore.penalties.elementwise import GammaPenalty
from slimcore.penalties.params import Param, mode_param
from slimcore.penalties.thresholding import half_threshold, lp_threshold

# Keeps the subgradient finite at γ = 0, where the derivative of Bui et al. 2020's |γ|^p, ∝ |γ|^(p−1), blows up.
LP_EPS = 1e-8


@PENALTIES.register("lp")
class LpPenalty(GammaPenalty):
    """ℓp on BN γ, 0 < p < 1 (Bui et al. 2020): λ·|γ|^p, nearer ℓ0 than ℓ1; p = 1/2 or 3/4 as in the paper."""

    name = "lp"
    parameters = (
        Param("p", float, 0.5, "exponent of |γ|^p: smaller p is closer to ℓ0 (Bui et al. 2020 use 1/2 and 3/4); "
              "p = 1/2 has a closed-form prox, other p a Newton root", low=0, high=1, low_open=True, high_open=True,
              in_formula=True),
        mode_param("subgradient", "proximal", default="proximal"),
    )
    default_lam = 0.01

    def value(self, x: Tensor) -> Tensor:
        return self.lam * x.abs() ** self.p

    def prox(self, x: Tensor, step: float) -> Tensor:
        # p = 1/2 has a closed form (Xu et al. 2012); other p use generalized iterated shrinkage (Zuo et al. 2013).
        if self.p == 0.5:
            return half_threshold(x, step * self.lam)
        return lp_threshold(x, step * self.lam, self.p)

    def grad(self, x: Tensor) -> Tensor:
        # d/dγ of λ|γ|^p, with ε keeping it finite at 0: λ·p·sign(γ)·(|γ|+ε)^(p−1).
        return self.lam * self.p * torch.sign(x) * (x.abs() + LP_EPS) ** (self.p - 1.0)
