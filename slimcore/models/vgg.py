"""VGG with BN in the network-slimming configurations (Liu et al. 2017), global-average-pooled head."""
from __future__ import annotations

import torch
from torch import nn

from slimcore.models.factory import MODELS
from slimcore.models.layers import Cfg, cfg_features, init_conv_bn, last_width

# The configs of github.com/Eric-mingjie/network-slimming models/vgg.py: 4 pools, no FC stack.
VGG_CFGS: dict[int, Cfg] = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512],
}

# Network slimming initialises every BN γ to 0.5 (not PyTorch's 1) so the L1 penalty starts mid-range.
SLIMMING_GAMMA = 0.5


class VGG(nn.Module):
    """conv3x3-BN-ReLU stack from a cfg, then AdaptiveAvgPool2d(1) + Linear."""

    def __init__(self, cfg: Cfg, num_classes: int, in_channels: int, image_size: int) -> None:
        super().__init__()
        self.features = cfg_features(cfg, in_channels, image_size)
        self.classifier = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(last_width(cfg), num_classes)
        )
        init_conv_bn(self, bn_gamma=SLIMMING_GAMMA)
        linear = self.classifier[-1]
        nn.init.normal_(linear.weight, 0.0, 0.01)
        nn.init.zeros_(linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def _register(depth: int) -> None:
    def build(num_classes: int, in_channels: int, image_size: int) -> nn.Module:
        return VGG(VGG_CFGS[depth], num_classes, in_channels, image_size)

    MODELS.register(f"vgg{depth}", help=f"VGG-{depth} with BN, network-slimming config, GAP head")(build)


for _depth in VGG_CFGS:
    _register(_depth)
