"""Layer shapes read off one forward pass (`slimcore.analysis.shapes`): every conv and linear with the output
positions it really computes, MACs equal to torch's FLOP counter / 2, and the model's modes left as they were."""
from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from slimcore.analysis.shapes import layer_shapes
from slimcore.pruning.math.flops import LayerShape, network_macs


class Net(nn.Module):
    """Strided and padded convs, a depthwise conv, a pool, a linear on a sequence and a classifier."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, groups=8)
        self.c2 = nn.Conv2d(8, 6, (1, 3))
        self.tokens = nn.Linear(6, 5)
        self.fc = nn.Linear(5, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn(self.c1(x)))
        x = self.c2(nn.functional.max_pool2d(self.dw(x), 2))
        seq = x.flatten(2).transpose(1, 2)  # N × positions × channels: a linear over tokens
        return self.fc(self.tokens(seq).mean(1))


def test_positions_are_the_real_output_sizes():
    model = Net()
    sizes = {}
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: sizes.__setitem__(n, o.shape))
             for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, 30, 30))
    for h in hooks:
        h.remove()
    shapes = {s.name: s for s in layer_shapes(model, (3, 30, 30))}
    assert list(shapes) == ["c1", "dw", "c2", "tokens", "fc"]  # the order the forward pass runs them
    for name in ("c1", "dw", "c2"):
        assert shapes[name].positions == sizes[name][-2] * sizes[name][-1], name
    assert shapes["tokens"].positions == sizes["tokens"][1] and shapes["fc"].positions == 1
    assert shapes["c1"] == LayerShape("c1", "conv", 3, 8, 1, 9, 15 * 15)
    assert shapes["dw"] == LayerShape("dw", "conv", 8, 8, 8, 9, 13 * 13)
    assert shapes["c2"] == LayerShape("c2", "conv", 8, 6, 1, 3, 6 * 4)


def test_macs_are_half_the_flops_torch_counts():
    model = Net().eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, 30, 30))
    assert 2 * network_macs(layer_shapes(model, (3, 30, 30))) == counter.get_total_flops()


def test_the_probe_leaves_each_module_in_its_own_mode():
    model = Net().train()
    model.bn.eval()  # a frozen BN inside a training model
    stats = model.bn.running_mean.clone()
    layer_shapes(model, (3, 30, 30))
    assert model.training and model.c1.training and not model.bn.training
    assert torch.equal(model.bn.running_mean, stats)
