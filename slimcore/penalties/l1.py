"""The ℓ1 penalty of network slimming (Liu et al., ICCV 2017)."""
from __future__ import annotations

import torch
from torch import Tensor

from slimcore.penalties.base import PENALTIES
from slimcore.penalties.elementwise import GammaPenalty
from slimcore.penalties.params import mode_param
from slimcore.penalties.thresholding import soft_threshold


@PENALTIES.register("l1")
class L1Penalty(GammaPenalty):
    """ℓ1 on BN γ (network slimming): λ·|γ|, by subgradient or soft thresholding."""

    name = "l1"
    parameters = (mode_param("subgradient", "proximal", default="proximal"),)
    default_lam = 0.01

    def value(self, x: Tensor) -> Tensor:
        return self.lam * x.abs()

    def prox(self, x: Tensor, step: float) -> Tensor:
        return soft_threshold(x, step * self.lam)

    def grad(self, x: Tensor) -> Tensor:
        # sign(0) = 0: the subgradient network slimming's reference code adds (Liu et al. 2017).
        return self.lam * torch.sign(x)
