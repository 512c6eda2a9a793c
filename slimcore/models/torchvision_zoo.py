"""torchvision's ImageNet architectures (never with weights) with the stem adapted to the data's channels and size."""
from __future__ import annotations

from typing import Callable

import torch
import torchvision
from torch import nn

from slimcore.models.factory import MODELS
from slimcore.models.layers import init_conv_bn

# Below this size an ImageNet stem (stride-2 conv + max-pool = /4) would leave too little map to learn from.
SMALL_IMAGE = 64


def _he_conv(in_channels: int, out_channels: int, kernel: int, stride: int) -> nn.Conv2d:
    conv = nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=kernel // 2, bias=False)
    nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")  # torchvision's own init
    return conv


def _resnet(arch: str) -> Callable[[int, int, int], nn.Module]:
    def build(num_classes: int, in_channels: int, image_size: int) -> nn.Module:
        model = getattr(torchvision.models, arch)(weights=None, num_classes=num_classes)
        if image_size < SMALL_IMAGE:
            # The CIFAR stem: 3×3 stride-1 conv and no max-pool keeps a 32×32 map through stage 1.
            model.conv1 = _he_conv(in_channels, 64, 3, 1)
            model.maxpool = nn.Identity()
        else:
            model.conv1 = _he_conv(in_channels, 64, 7, 2)
        return model

    build.__doc__ = f"torchvision {arch}, stem adapted to the input"
    return build


def _mobilenet_v2(num_classes: int, in_channels: int, image_size: int) -> nn.Module:
    """torchvision mobilenet_v2, stride-1 first conv for small inputs."""
    model = torchvision.models.mobilenet_v2(weights=None, num_classes=num_classes)
    stem = model.features[0][0]
    model.features[0][0] = _he_conv(in_channels, stem.out_channels, 3, 1 if image_size < SMALL_IMAGE else 2)
    return model


def _vgg11_bn(num_classes: int, in_channels: int, image_size: int) -> nn.Module:
    """torchvision vgg11_bn, bias-free convs before BN, pools and head fitted to small inputs."""
    # Built on the meta device: torchvision's init of the 102 M-weight 25088×4096 linear costs ~1 s of CPU
    # and small inputs replace that layer anyway; _init_vgg below initialises every tensor as torchvision does.
    with torch.device("meta"):
        model = torchvision.models.vgg11_bn(weights=None, num_classes=num_classes)
        layers, size, width = [], image_size, in_channels
        for layer in model.features:
            if isinstance(layer, nn.Conv2d):
                # torchvision keeps a bias that the following BN's β makes redundant; pruning code expects none.
                layer = nn.Conv2d(width, layer.out_channels, 3, padding=1, bias=False)
                width = layer.out_channels
            elif isinstance(layer, nn.MaxPool2d):
                if size // 2 < 1:
                    continue  # a 28×28 input has room for only four of the five pools
                size //= 2
            layers.append(layer)
        model.features = nn.Sequential(*layers)
        if image_size < SMALL_IMAGE:
            # Upsampling a 1×1 map to 7×7 would only feed 49 copies of each feature to a 25088-wide linear.
            model.avgpool = nn.AdaptiveAvgPool2d(1)
            model.classifier[0] = nn.Linear(width, model.classifier[0].out_features)
    model.to_empty(device="cpu")
    _init_vgg(model)
    return model


def _init_vgg(model: nn.Module) -> None:
    """torchvision's VGG initialisation, applied to a model materialised from the meta device."""
    init_conv_bn(model)  # He-normal convs, γ = 1, β = 0: as torchvision's (convs all precede the linears)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()  # to_empty left them unset
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)


for _arch in ("resnet18", "resnet34", "resnet50"):
    MODELS.register(f"tv_{_arch}", help=f"torchvision {_arch} (random init), CIFAR stem below 64 px")(_resnet(_arch))
MODELS.register("tv_mobilenet_v2", help="torchvision mobilenet_v2 (random init), stride-1 stem below 64 px")(
    _mobilenet_v2
)
MODELS.register("tv_vgg11_bn", help="torchvision vgg11_bn (random init), GAP head below 64 px")(_vgg11_bn)
