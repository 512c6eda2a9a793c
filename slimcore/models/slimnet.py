"""slimnet: the small default CNN, a six-conv VGG sized to train on CPU in seconds."""
from __future__ import annotations

from torch import nn

from slimcore.models.factory import MODELS
from slimcore.models.layers import Cfg
from slimcore.models.vgg import VGG

# A pool after the first conv cuts the cost at 28×28 by more than half (≈6 M MACs an image); an epoch of mnist5k
# (4,000 images, batch 64) takes ~1.5–2 s of forward+backward on an idle 2-core CPU.
SLIMNET_CFG: Cfg = [16, "M", 32, 32, "M", 64, 64, "M", 128]


@MODELS.register("slimnet", help="small 6-conv VGG-like CNN with BN (default; fast on CPU)")
def slimnet(num_classes: int, in_channels: int, image_size: int) -> nn.Module:
    """Six conv-BN-ReLU blocks (16-32-32-64-64-128), three max-pools, GAP + linear head."""
    return VGG(SLIMNET_CFG, num_classes, in_channels, image_size)
