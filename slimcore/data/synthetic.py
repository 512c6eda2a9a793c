"""synthetic: random CIFAR-shaped tensors (3×32×32, 10 classes) for speed benchmarks; nothing to learn."""
from __future__ import annotations

from pathlib import Path

import torch
from torch.utils.data import TensorDataset

from slimcore.data.factory import DATASETS
from slimcore.data.splits import DataSplits

TRAIN, HELD_OUT = 10_000, 1_000


@DATASETS.register("synthetic", help="random CIFAR-shaped tensors for speed benchmarks (no download)")
def load_synthetic(root: Path | None, seed: int, train_size: int = TRAIN, image_size: int = 32) -> DataSplits:
    """Seeded standard-normal images and uniform labels: throughput is measured on CIFAR's shapes."""
    g = torch.Generator().manual_seed(seed)

    def split(n: int) -> TensorDataset:
        return TensorDataset(torch.randn(n, 3, image_size, image_size, generator=g),
                             torch.randint(0, 10, (n,), generator=g))

    return DataSplits(name="synthetic", train=split(train_size), val=split(HELD_OUT), test=split(HELD_OUT),
                      num_classes=10, in_channels=3, image_size=image_size,
                      class_names=[str(c) for c in range(10)])


load_synthetic.uses_root = False  # embedded: there is no data folder to read
