"""Compensation (`slimcore.pruning.math.compensate`): a consumer's response to its removed input channels equals
what it computed from them (checked against the convolution of a brute-force input), uniform responses go into
the bias and border-dependent ones into a per-position map."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from slimcore.pruning.math.bias_map import BiasMapConv2d
from slimcore.pruning.math.compensate import (MeanInputCompensation, NoCompensation, add_response, response)


def only_channels(mean_input: torch.Tensor, channels) -> torch.Tensor:
    """The input that holds `mean_input` at `channels` and zero elsewhere (the brute-force oracle's input)."""
    x = torch.zeros_like(mean_input)
    x[list(channels)] = mean_input[list(channels)]
    return x


@pytest.mark.parametrize("kernel,padding,stride", [(3, 1, 1), (3, 1, 2), (1, 0, 1), (5, 2, 1)])
def test_a_conv_response_is_the_conv_of_those_channels_alone(kernel, padding, stride):
    torch.manual_seed(0)
    conv = nn.Conv2d(6, 4, kernel, stride=stride, padding=padding, bias=True)
    mean_input = torch.randn(6, 7, 7)
    channels = np.array([1, 4])
    expected = F.conv2d(only_channels(mean_input, channels)[None], conv.weight, None, stride, padding)[0]
    torch.testing.assert_close(response(conv, mean_input, channels), expected)


def test_a_linear_response_is_the_weights_times_those_inputs():
    torch.manual_seed(0)
    fc = nn.Linear(5, 3)
    mean_input = torch.randn(5)
    torch.testing.assert_close(response(fc, mean_input, np.array([0, 3])),
                               fc.weight @ only_channels(mean_input, [0, 3]))


def test_a_grouped_conv_has_no_input_response():
    with pytest.raises(ValueError, match="grouped convolution"):
        response(nn.Conv2d(4, 4, 3, groups=4), torch.zeros(4, 5, 5), np.array([0]))


def test_a_uniform_response_goes_into_the_bias_and_makes_one_if_needed():
    model = nn.Sequential(nn.Conv2d(2, 3, 1, bias=False))
    contribution = torch.tensor([1.0, -2.0, 0.5])[:, None, None].expand(3, 4, 4).clone()
    x = torch.randn(2, 2, 4, 4)
    before = model(x).detach()
    add_response(model, "0", contribution)
    assert type(model[0]) is nn.Conv2d and model[0].bias is not None
    torch.testing.assert_close(model(x).detach(), before + contribution)


def test_a_border_dependent_response_becomes_a_per_position_map():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 2, 3, padding=1, bias=True))
    contribution = response(model[0], torch.ones(3, 5, 5), np.array([0, 2]))
    assert float((contribution - contribution.mean(dim=(1, 2), keepdim=True)).abs().max()) > 1e-3  # the border
    x = torch.randn(2, 3, 5, 5)
    before = model(x).detach()
    add_response(model, "0", contribution)
    assert isinstance(model[0], BiasMapConv2d)
    torch.testing.assert_close(model(x).detach(), before + contribution)
    add_response(model, "0", contribution)  # a second call adds to the same map
    torch.testing.assert_close(model(x).detach(), before + 2 * contribution)


def test_mean_input_compensation_keeps_a_consumer_exact_when_its_removed_inputs_are_constant():
    """Inputs 1 and 3 hold the same map for every sample: zeroing their weights after compensation changes nothing."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(4, 3, 3, padding=1))
    constant = torch.randn(4, 6, 6)
    x = torch.randn(5, 4, 6, 6)
    x[:, [1, 3]] = constant[[1, 3]]
    before = model(x).detach()
    MeanInputCompensation({"0": constant}).apply(model, {("0", "in"): np.array([1, 3]), ("p", "out"): np.array([0])})
    with torch.no_grad():
        model[0].weight[:, [1, 3]] = 0
    torch.testing.assert_close(model(x).detach(), before, atol=1e-5, rtol=1e-5)


def test_an_outright_cut_puts_nothing_back():
    model = nn.Sequential(nn.Conv2d(2, 2, 1, bias=False))
    NoCompensation().apply(model, {("0", "in"): np.array([0])})
    assert model[0].bias is None and type(model[0]) is nn.Conv2d
