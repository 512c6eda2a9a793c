"""The transformed ℓ1 penalty (`slimcore.penalties.tl1`, Bui et al. 2020): λ(a+1)|γ|/(a+|γ|) between ℓ0 (a → 0) and
ℓ1 (a → ∞), its derivative, and Zhang & Xin's closed-form prox at step·λ."""
from __future__ import annotations

import pytest
import torch

from slimcore.penalties import get
from slimcore.penalties.thresholding import tl1_threshold

X = torch.linspace(-3, 3, 121, dtype=torch.float64)


def test_value_interpolates_between_l0_and_l1():
    assert torch.allclose(get("tl1", lam=0.5, a=1e9).value(X), 0.5 * X.abs(), rtol=1e-8, atol=0)  # a → ∞: ℓ1
    near_l0 = get("tl1", lam=0.5, a=1e-6).value(X)
    assert torch.allclose(near_l0[X.abs() > 0.01], torch.full_like(near_l0[X.abs() > 0.01], 0.5), rtol=1e-3)
    assert get("tl1", lam=0.5, a=1e-6).value(torch.zeros(1)).item() == 0.0
    assert get("tl1", lam=1.0, a=1.0).value(torch.tensor([1.0])).item() == 1.0  # (1+1)·1/(1+1)


def test_derivative_at_zero_is_lam_times_a_plus_one_over_a():
    pen = get("tl1", lam=0.3, a=0.5)
    tiny = torch.tensor([1e-12, -1e-12], dtype=torch.float64)
    assert pen.grad(tiny).tolist() == pytest.approx([0.3 * 1.5 / 0.5, -0.3 * 1.5 / 0.5])
    assert pen.grad(torch.tensor([0.0])).item() == 0.0


@pytest.mark.parametrize("a", [0.5, 1.0, 3.0])
def test_prox_is_the_tl1_threshold_at_step_times_lam(a):
    pen = get("tl1", lam=0.4, a=a)
    assert torch.equal(pen.prox(X, 0.25), tl1_threshold(X, 0.1, a))
