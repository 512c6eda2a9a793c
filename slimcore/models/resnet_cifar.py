"""CIFAR ResNets of He et al. 2016 (§4.2): 6n+2 layers, widths 16/32/64, option-B projection shortcuts."""
from __future__ import annotations

import torch
from torch import nn

from slimcore.models.factory import MODELS
from slimcore.models.layers import init_conv_bn


class BasicBlock(nn.Module):
    """Two conv3x3-BN with a residual; a 1×1 conv + BN shortcut when the shape changes."""

    def __init__(self, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu2 = nn.ReLU(inplace=True)
        # Option B rather than the paper's CIFAR option A (zero-padding lambda) so the graph holds only
        # standard modules that dependency-graph pruning can follow.
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu2(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """conv3x3(16) → 3 stages of n basic blocks (16, 32, 64; strides 1, 2, 2) → GAP → linear."""

    def __init__(self, n: int, num_classes: int, in_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        stages, in_planes = [], 16
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            blocks = [BasicBlock(in_planes, planes, stride)] + [BasicBlock(planes, planes, 1) for _ in range(n - 1)]
            stages.append(nn.Sequential(*blocks))
            in_planes = planes
        self.layer1, self.layer2, self.layer3 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.fc = nn.Linear(64, num_classes)
        init_conv_bn(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.flatten(self.avgpool(x)))


@MODELS.register("resnet20", help="CIFAR ResNet-20 (3×3 basic blocks, 16/32/64 widths)")
def resnet20(num_classes: int, in_channels: int, image_size: int) -> nn.Module:
    """CIFAR ResNet-20: n = 3 blocks per stage."""
    return CifarResNet(3, num_classes, in_channels)


@MODELS.register("resnet56", help="CIFAR ResNet-56 (9 basic blocks per stage, 16/32/64 widths)")
def resnet56(num_classes: int, in_channels: int, image_size: int) -> nn.Module:
    """CIFAR ResNet-56: n = 9 blocks per stage."""
    return CifarResNet(9, num_classes, in_channels)
