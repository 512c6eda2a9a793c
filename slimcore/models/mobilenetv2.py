"""MobileNetV2 (Sandler et al. 2018) with the CIFAR stride changes, width multiplier 1.0."""
from __future__ import annotations

import torch
from torch import nn

from slimcore.models.factory import MODELS
from slimcore.models.layers import init_conv_bn

# (expansion t, output channels c, repeats n, first stride s) — Table 2 of the paper, except that
# the stem and the 24-channel stage use stride 1 so a 32×32 input ends at 4×4 instead of 1×1.
CIFAR_SETTINGS = [
    (1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)
]


class InvertedResidual(nn.Module):
    """1×1 expand-BN-ReLU6 → depthwise 3×3-BN-ReLU6 → 1×1 project-BN, plus the input when shapes match."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = in_channels * expansion
        layers: list[nn.Module] = []
        if expansion != 1:
            layers += [nn.Conv2d(in_channels, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True)]
        layers += [
            nn.Conv2d(hidden, hidden, 3, stride=stride, padding=1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        self.conv = nn.Sequential(*layers)
        self.use_residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_residual else self.conv(x)


class MobileNetV2(nn.Module):
    """conv3x3(32, stride 1) → 17 inverted residuals → conv1x1(1280) → GAP → linear."""

    def __init__(self, num_classes: int, in_channels: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU6(inplace=True)
        ]
        width = 32
        for t, c, n, s in CIFAR_SETTINGS:
            for i in range(n):
                layers.append(InvertedResidual(width, c, s if i == 0 else 1, t))
                width = c
        layers += [nn.Conv2d(width, 1280, 1, bias=False), nn.BatchNorm2d(1280), nn.ReLU6(inplace=True)]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(1280, num_classes))
        init_conv_bn(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


@MODELS.register("mobilenetv2", help="CIFAR MobileNetV2 (inverted residuals, stride-1 stem)")
def mobilenetv2(num_classes: int, in_channels: int, image_size: int) -> nn.Module:
    """MobileNetV2, width 1.0; three stride-2 stages so 8×8 to 32×32 inputs all fit."""
    return MobileNetV2(num_classes, in_channels)
