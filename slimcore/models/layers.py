"""Small building blocks and initialisers shared by the model families."""
from __future__ import annotations

from torch import nn

Cfg = list[int | str]


def conv_bn_relu(in_channels: int, out_channels: int, stride: int = 1) -> list[nn.Module]:
    """conv3x3 (no bias: BN's shift makes it redundant) → BatchNorm2d → ReLU."""
    return [
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    ]


def cfg_features(cfg: Cfg, in_channels: int, image_size: int) -> nn.Sequential:
    """A VGG-style feature stack from widths and 'M' pools, dropping pools that would shrink the map below 1×1."""
    layers: list[nn.Module] = []
    size = image_size
    for item in cfg:
        if item == "M":
            # Small inputs (8×8 digits) cannot take every pool of a 32×32 design; skipping keeps the widths intact.
            if size // 2 >= 1:
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                size //= 2
        else:
            layers += conv_bn_relu(in_channels, int(item))
            in_channels = int(item)
    return nn.Sequential(*layers)


def last_width(cfg: Cfg) -> int:
    """Number of channels the last conv of a cfg produces."""
    return int([v for v in cfg if v != "M"][-1])


def init_conv_bn(model: nn.Module, bn_gamma: float = 1.0) -> None:
    """He-normal convs (fan-out, as in He et al. 2015), BN γ = bn_gamma and β = 0, zero biases."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, bn_gamma)
            nn.init.zeros_(m.bias)
