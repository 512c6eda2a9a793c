"""The per-position bias (`slimcore.pruning.math.bias_map`): a conv plus a fixed map, exact at the output size it
was made for and refusing any other with a message that says why."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from slimcore.pruning.math.bias_map import BiasMapConv2d, replace_module, with_bias_map


def test_a_bias_map_conv_is_its_conv_plus_the_map():
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3, padding=1, bias=True)
    bias_map = torch.randn(4, 6, 6)
    x = torch.randn(2, 3, 6, 6)
    mapped = with_bias_map(conv, bias_map)
    with torch.no_grad():
        torch.testing.assert_close(mapped(x), conv(x) + bias_map)
    assert isinstance(mapped, BiasMapConv2d) and "bias_map" in dict(mapped.named_buffers())
    assert (mapped.stride, mapped.padding, mapped.groups) == (conv.stride, conv.padding, conv.groups)


def test_the_map_travels_in_the_state_dict():
    mapped = with_bias_map(nn.Conv2d(2, 3, 1, bias=False), torch.full((3, 4, 4), 2.0))
    fresh = BiasMapConv2d(2, 3, 1, bias=False, map_size=(4, 4))
    fresh.load_state_dict(mapped.state_dict())
    assert torch.equal(fresh.bias_map, mapped.bias_map)


def test_another_input_size_is_refused_with_the_reason():
    mapped = with_bias_map(nn.Conv2d(3, 4, 3, padding=1), torch.zeros(4, 8, 8))
    with pytest.raises(ValueError, match=r"cut for inputs that give \(8, 8\) maps here, not \(16, 16\)"):
        mapped(torch.randn(1, 3, 16, 16))


def test_replace_module_puts_the_new_layer_at_its_qualified_name():
    model = nn.Sequential(nn.Sequential(nn.Conv2d(1, 2, 3)), nn.ReLU())
    new = with_bias_map(model[0][0], torch.zeros(2, 4, 4))
    replace_module(model, "0.0", new)
    assert model.get_submodule("0.0") is new
    replace_module(model, "1", nn.Identity())
    assert isinstance(model[1], nn.Identity)
