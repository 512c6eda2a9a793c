"""MACs from widths alone (`slimcore.pruning.math.flops`): each layer's formula by hand, the count of a physically
cut layer under torch's own FLOP counter, and MACs that never grow as channels go."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from slimcore.pruning.math.flops import LayerShape, layer_macs, network_macs

CONV = LayerShape("conv", "conv", in_channels=8, out_channels=16, groups=1, kernel=9, positions=64)
DEPTHWISE = LayerShape("dw", "conv", in_channels=12, out_channels=12, groups=12, kernel=9, positions=16)
LINEAR = LayerShape("fc", "linear", in_channels=32, out_channels=10, groups=1, kernel=1, positions=1)


def test_each_layer_by_hand():
    assert layer_macs(CONV) == 9 * 8 * 16 * 64
    assert layer_macs(CONV, removed_out=4) == 9 * 8 * 12 * 64
    assert layer_macs(CONV, removed_in=2) == 9 * 6 * 16 * 64
    assert layer_macs(DEPTHWISE) == 9 * 1 * 12 * 16
    assert layer_macs(DEPTHWISE, removed_tied=4) == 9 * 1 * 8 * 16  # a depthwise conv loses in, out and groups
    assert layer_macs(LINEAR, removed_in=2) == 30 * 10


def test_network_macs_adds_the_layers_with_their_own_removals_and_ignores_bn_entries():
    removed = {("conv", "out"): np.array([0, 3]), ("dw", "dw"): np.array([5]), ("fc", "in"): np.array([1, 2, 3]),
               ("bn", "bn"): np.array([0, 1, 2])}
    assert network_macs([CONV, DEPTHWISE, LINEAR]) == layer_macs(CONV) + layer_macs(DEPTHWISE) + layer_macs(LINEAR)
    assert network_macs([CONV, DEPTHWISE, LINEAR], removed) == (9 * 8 * 14 * 64 + 9 * 11 * 16 + 29 * 10)


def test_a_cut_conv_costs_what_torch_counts():
    conv = nn.Conv2d(6, 12, 3, padding=1, bias=False)  # what CONV-like layer (8 → 16) is after cutting 2 in, 4 out
    shape = LayerShape("c", "conv", 8, 16, 1, 9, 10 * 10)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        conv(torch.zeros(1, 6, 10, 10))
    assert counter.get_total_flops() == 2 * layer_macs(shape, removed_out=4, removed_in=2)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 16), st.integers(1, 16), st.integers(1, 9), st.integers(1, 50), st.data())
def test_removing_another_channel_never_adds_macs(c_in, c_out, kernel, positions, data):
    shape = LayerShape("c", "conv", c_in, c_out, 1, kernel, positions)
    r_in, r_out = data.draw(st.integers(0, c_in - 1)), data.draw(st.integers(0, c_out - 1))
    macs = layer_macs(shape, removed_out=r_out, removed_in=r_in)
    assert macs == kernel * (c_in - r_in) * (c_out - r_out) * positions
    if r_in + 1 < c_in:
        assert layer_macs(shape, removed_out=r_out, removed_in=r_in + 1) < macs
    if r_out + 1 < c_out:
        assert layer_macs(shape, removed_out=r_out + 1, removed_in=r_in) < macs
