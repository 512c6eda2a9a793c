"""The ℓ1 penalty of network slimming (`slimcore.penalties.l1`): λ|γ|, its subgradient sign(γ)·λ (0 at 0, as the
reference code adds) and its prox, the soft threshold at step·λ."""
from __future__ import annotations

import torch

from slimcore.penalties import get
from slimcore.penalties.thresholding import soft_threshold


def test_l1_subgradient_is_zero_at_zero():
    assert get("l1", lam=0.5).grad(torch.zeros(3)).eq(0).all()
    assert torch.isfinite(get("lp", lam=0.5, p=0.3).grad(torch.zeros(3))).all()


def test_value_grad_and_prox_by_hand():
    pen = get("l1", lam=0.5)
    x = torch.tensor([-1.0, -0.05, 0.0, 0.05, 1.0], dtype=torch.float64)
    assert pen.value(x).tolist() == [0.5, 0.025, 0.0, 0.025, 0.5]
    assert pen.grad(x).tolist() == [-0.5, -0.5, 0.0, 0.5, 0.5]
    # step 0.2 · λ 0.5 = 0.1: everything within 0.1 of zero goes to exactly 0, the rest shrinks by 0.1
    assert pen.prox(x, 0.2).tolist() == [-0.9, 0.0, 0.0, 0.0, 0.9]
    assert torch.equal(pen.prox(x, 0.2), soft_threshold(x, 0.1))


def test_mode_defaults_to_proximal_and_subgradient_is_offered():
    assert get("l1").mode == "proximal" and get("l1", mode="subgradient").mode == "subgradient"
