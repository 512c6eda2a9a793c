"""Capturing every BN layer's γ and β, and the sparsity figures derived from them."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

SPARSITY_THRESHOLDS = (1e-3, 1e-2, 1e-1)


def capture(bns: list[nn.BatchNorm2d]) -> tuple[torch.Tensor, torch.Tensor]:
    """Concatenated γ and β copies; on CUDA the copies to pinned host memory are asynchronous. A model without BN
    (it trains, though it cannot be pruned) gives empty ones."""
    if not bns:
        return torch.zeros(0), torch.zeros(0)
    with torch.no_grad():
        gamma = torch.cat([bn.weight.detach().reshape(-1) for bn in bns]).float()
        beta = torch.cat([bn.bias.detach().reshape(-1) for bn in bns]).float()
    if gamma.device.type == "cuda":
        host_g = torch.empty(gamma.shape, pin_memory=True)
        host_b = torch.empty(beta.shape, pin_memory=True)
        host_g.copy_(gamma, non_blocking=True)
        host_b.copy_(beta, non_blocking=True)
        return host_g, host_b
    return gamma.clone(), beta.clone()


def sparsity_figures(gamma: np.ndarray) -> dict[str, float]:
    """Share of channels with |γ| under each threshold, and exactly zero."""
    a = np.abs(np.asarray(gamma, dtype=np.float64))
    if a.size == 0:
        return {}
    figures = {f"sparsity@{t:g}": float((a < t).mean()) for t in SPARSITY_THRESHOLDS}
    figures["sparsity@0"] = float((a == 0).mean())
    return figures
