"""slimnet: the small default CNN, a six-conv VGG sized to train on CPU in seconds."""
from __future__ import annotations

from torch import nn

from slimcore.models.factory import MODELS
from slimcore.models.layers import Cfg
from slimcore.models.vgg import VGG

SLIMNET_CFG: Cfg = [16, 32, "M", 32, 64, "M", 64, 128]


@MODELS.register("slimnet", help="small 6-conv VGG-like CNN with BN (default; fast on CPU)")
def slimnet(num_classes: int, in_channels: int, image_size: int) -> nn.Module:
    """Six conv-BN-ReLU blocks (16-32-32-64-64-128), two max-pools, GAP + linear head."""
    return VGG(SLIMNET_CFG, num_classes, in_channels, image_size)
