"""DataSplits, the one value every data-set loader returns, and the deterministic split it is cut by."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch.utils.data import Dataset

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


@dataclass(frozen=True)
class DataSplits:
    """Train/val/test datasets yielding (normalised float32 C×H×W, label) plus what a model needs to fit them."""

    name: str
    train: Dataset
    val: Dataset
    test: Dataset
    num_classes: int
    in_channels: int
    image_size: int
    class_names: list[str]
    # Batch-level, applied by the training loop with its own generator so runs replay exactly.
    augment: Augment | None = None

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one input."""
        return (self.in_channels, self.image_size, self.image_size)


def permutation(n: int, seed: int) -> torch.Tensor:
    """A fixed shuffle of range(n) for `seed`, independent of torch's global RNG."""
    return torch.from_numpy(np.random.default_rng(seed).permutation(n))


def split_indices(n: int, val: int, test: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Cut a seeded permutation of range(n) into disjoint train / val (`val` items) / test (`test` items) indices."""
    order = permutation(n, seed)
    return order[val + test :], order[:val], order[val : val + test]
