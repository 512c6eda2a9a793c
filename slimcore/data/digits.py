"""digits: scikit-learn's 1,797 8×8 handwritten digits — tiny, for fast tests and demos."""
from __future__ import annotations

from pathlib import Path

import torch
from torch.utils.data import TensorDataset

from slimcore.data.factory import DATASETS
from slimcore.data.splits import DataSplits, split_indices

# Mean and std of all pixels after scaling 0–16 to 0–1 (the data set is fixed, so constants suffice).
DIGITS_MEAN, DIGITS_STD = 0.3053, 0.3760
HELD_OUT = 0.15


@DATASETS.register("digits", help="scikit-learn's 1,797 8×8 digits (tiny, offline)")
def load_digits(root: Path | None, seed: int) -> DataSplits:
    """~70 / 15 / 15 seeded split of sklearn's load_digits, 1×8×8, normalised."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    x = (torch.tensor(bunch.data, dtype=torch.float32).div(16.0).view(-1, 1, 8, 8) - DIGITS_MEAN) / DIGITS_STD
    y = torch.tensor(bunch.target, dtype=torch.long)
    held = round(HELD_OUT * len(x))
    train, val, test = split_indices(len(x), held, held, seed)
    return DataSplits(
        name="digits",
        train=TensorDataset(x[train], y[train]),
        val=TensorDataset(x[val], y[val]),
        test=TensorDataset(x[test], y[test]),
        num_classes=10,
        in_channels=1,
        image_size=8,
        class_names=[str(d) for d in range(10)],
    )


load_digits.uses_root = False  # embedded: there is no data folder to read
