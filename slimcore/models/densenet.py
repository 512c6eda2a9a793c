"""DenseNet-40 for CIFAR as used by network slimming (Huang et al. 2017; Liu et al. 2017)."""
from __future__ import annotations

import torch
from torch import nn

from slimcore.models.factory import MODELS
from slimcore.models.layers import init_conv_bn
from slimcore.models.vgg import SLIMMING_GAMMA


class DenseLayer(nn.Module):
    """BN-ReLU-conv3x3 producing `growth` new channels, concatenated onto its input."""

    def __init__(self, in_channels: int, growth: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(in_channels)
        self.relu = nn.ReLU(inplace=False)  # in-place would overwrite x, which torch.cat still needs
        self.conv = nn.Conv2d(in_channels, growth, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.conv(self.relu(self.bn(x)))], dim=1)


class Transition(nn.Module):
    """BN-ReLU-conv1x1-avgpool2 between dense blocks (compression 1.0 keeps the width)."""

    def __init__(self, in_channels: int, out_channels: int, pool: bool) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(in_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.pool: nn.Module = nn.AvgPool2d(2) if pool else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.conv(self.relu(self.bn(x))))


class DenseNet(nn.Module):
    """conv3x3(2·growth) → 3 dense blocks with transitions → BN-ReLU-GAP → linear."""

    def __init__(
        self, depth: int, growth: int, num_classes: int, in_channels: int, image_size: int
    ) -> None:
        super().__init__()
        n = (depth - 4) // 3  # 40 layers = first conv + 3 blocks of n + 2 transitions + fc
        width = 2 * growth
        self.conv1 = nn.Conv2d(in_channels, width, 3, padding=1, bias=False)
        blocks: list[nn.Module] = []
        size = image_size
        for stage in range(3):
            blocks.append(nn.Sequential(*[DenseLayer(width + i * growth, growth) for i in range(n)]))
            width += n * growth
            if stage < 2:
                pool = size // 2 >= 1  # small inputs skip a pool rather than reach 0×0
                size = size // 2 if pool else size
                blocks.append(Transition(width, width, pool))
        self.dense1, self.trans1, self.dense2, self.trans2, self.dense3 = blocks
        self.bn = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.fc = nn.Linear(width, num_classes)
        # The network-slimming DenseNet-40 also starts every γ at 0.5 (their models/densenet.py).
        init_conv_bn(self, bn_gamma=SLIMMING_GAMMA)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = self.trans1(self.dense1(x))
        x = self.trans2(self.dense2(x))
        x = self.relu(self.bn(self.dense3(x)))
        return self.fc(self.flatten(self.avgpool(x)))


@MODELS.register("densenet40", help="CIFAR DenseNet-40 (growth 12, no bottleneck, compression 1)")
def densenet40(num_classes: int, in_channels: int, image_size: int) -> nn.Module:
    """DenseNet-40: 3 blocks of 12 layers, growth 12, 24-channel stem."""
    return DenseNet(40, 12, num_classes, in_channels, image_size)
