"""γ and β snapshots and the sparsity figures (`slimcore.training.snapshots`): concatenated in layer order, copies
not views, and the shares of |γ| under each threshold equal to a count."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from slimcore.training.snapshots import capture, sparsity_figures


def test_capture_concatenates_every_bn_in_order_as_float32_copies():
    bns = [nn.BatchNorm2d(2), nn.BatchNorm2d(3).double()]
    with torch.no_grad():
        bns[0].weight.copy_(torch.tensor([1.0, 2.0]))
        bns[1].weight.copy_(torch.tensor([3.0, 4.0, 5.0]))
        bns[1].bias.copy_(torch.tensor([-1.0, -2.0, -3.0]))
    gamma, beta = capture(bns)
    assert gamma.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0] and beta.tolist() == [0.0, 0.0, -1.0, -2.0, -3.0]
    assert gamma.dtype == beta.dtype == torch.float32
    with torch.no_grad():
        bns[0].weight.zero_()
    assert gamma[0] == 1.0  # a copy: later training does not change a snapshot already taken


def test_sparsity_is_the_share_under_each_threshold_and_exactly_zero():
    gamma = np.array([0.0, -0.0005, 0.005, -0.05, 0.5, 2.0, 0.0, -1e-9])
    assert sparsity_figures(gamma) == {"sparsity@0.001": 4 / 8, "sparsity@0.01": 5 / 8, "sparsity@0.1": 6 / 8,
                                       "sparsity@0": 2 / 8}
    assert sparsity_figures(np.zeros(0)) == {}
