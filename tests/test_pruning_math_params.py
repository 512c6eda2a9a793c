"""Parameter counts from widths alone (`slimcore.pruning.math.params`): each layer by hand, and the closed form equal to
`sum(p.numel())` of the model `pruned_model` really builds, on hand-made nets that hold every kind of tie (a plain
chain with a biased conv, a residual add, a concatenation, a depthwise conv and a flatten into a linear layer)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import CatNet, NoPadNet, PlainNet, ResidualNet, make
from slimcore.pruning.math.params import ParamLayer, layer_params, network_params

CONV = ParamLayer("c", "conv", 8, 16, 1, 9, bias=False)
BIASED = ParamLayer("b", "conv", 8, 16, 1, 9, bias=True)
DEPTHWISE = ParamLayer("dw", "conv", 12, 12, 12, 9)
LINEAR = ParamLayer("fc", "linear", 32, 10, bias=True)
BN = ParamLayer("bn", "bn", 16, 16)


def test_each_layer_by_hand():
    assert layer_params(CONV) == 16 * 8 * 9
    assert layer_params(CONV, removed_out=4) == 12 * 8 * 9
    # losing an input channel: compensation gives the conv a bias, one per kept output channel
    assert layer_params(CONV, removed_out=4, removed_in=2) == 12 * 6 * 9 + 12
    assert layer_params(BIASED, removed_out=4) == 12 * 8 * 9 + 12
    assert layer_params(DEPTHWISE, removed_tied=5) == 7 * 9  # no bias: a depthwise conv's input goes with its output
    assert layer_params(LINEAR, removed_in=2) == 30 * 10 + 10
    assert layer_params(BN, removed_bn=6) == 2 * 10


def test_network_params_adds_the_layers_and_the_fixed_rest():
    removed = {("c", "in"): np.array([0, 1]), ("bn", "bn"): np.array([3]), ("fc", "out"): np.array([9])}
    assert network_params([CONV, BN, LINEAR], removed, fixed=7) == (16 * 6 * 9 + 16) + 2 * 15 + (32 * 9 + 9) + 7


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 16), st.integers(0, 8), st.integers(0, 16), st.integers(0, 8))
def test_removing_more_never_adds_parameters_once_a_bias_exists(out1, in1, out2, in2):
    a, b = sorted((out1, out2)), sorted((in1, in2))
    for layer in (BIASED, CONV):
        before, after = layer_params(layer, a[0], max(b[0], 1)), layer_params(layer, a[1], max(b[1], 1))
        assert after <= before


@pytest.mark.parametrize("cls, shape", [(PlainNet, (3, 8, 8)), (ResidualNet, (3, 8, 8)), (CatNet, (3, 8, 8)),
                                        (NoPadNet, (3, 10, 10))])
def test_the_closed_form_counts_the_really_pruned_model(cls, shape, one_thread):
    from slimcore.analysis.structure import analyse, pruned_model
    from slimcore.pruning.browser_preview import param_layers
    from slimcore.pruning.math.plan import select
    from slimcore.pruning.math.rankings import bn_scores

    model = make(cls).eval()
    structure = analyse(model, shape)
    layers, fixed = param_layers(model)
    assert network_params(layers, fixed=fixed) == sum(p.numel() for p in model.parameters())
    scores = bn_scores(model, structure.groups)
    flat = np.sort(np.concatenate(scores))
    rng = np.random.default_rng(0)
    for t in list(rng.choice(flat, 6)) + [flat[-1] + 1.0]:
        plan = select(scores, float(t)).plan
        cut = pruned_model(model, structure, plan)
        expected = sum(p.numel() for p in cut.parameters())
        assert network_params(layers, structure.removed(plan), fixed) == expected, (cls.__name__, t)
