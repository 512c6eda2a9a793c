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


def hold_out(data: DataSplits, share: float) -> tuple[DataSplits, Dataset]:
    """(`data` with a smaller train split, the held-out slice): the last ⌈share·n⌉ training items, which the
    train split's own seeded shuffle already mixed. A search tuned on the held-out slice leaves val unbiased for
    the curve it then draws (and test for final reports)."""
    from dataclasses import replace

    from torch.utils.data import Subset

    n = len(data.train)
    held = min(max(int(np.ceil(share * n)), 1), n - 1)
    return (replace(data, train=Subset(data.train, range(n - held))), Subset(data.train, range(n - held, n)))


def permutation(n: int, seed: int) -> torch.Tensor:
    """A fixed shuffle of range(n) for `seed`, independent of torch's global RNG."""
    return torch.from_numpy(np.random.default_rng(seed).permutation(n))


def split_indices(n: int, val: int, test: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Cut a seeded permutation of range(n) into disjoint train / val (`val` items) / test (`test` items) indices."""
    order = permutation(n, seed)
    return order[val + test :], order[:val], order[val : val + test]
