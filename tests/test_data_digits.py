"""digits (`slimcore.data.digits`): scikit-learn's 1,797 8×8 digits, scaled to [0, 1] and normalised by the set's own
mean and std, split about 70/15/15."""
from __future__ import annotations

import torch
from sklearn.datasets import load_digits

from slimcore.data import load_dataset
from slimcore.data.digits import DIGITS_MEAN, DIGITS_STD


def test_every_image_is_sklearn_s_normalised_and_each_appears_once():
    bunch = load_digits()
    splits = load_dataset("digits", seed=5)
    x = torch.cat([splits.train.tensors[0], splits.val.tensors[0], splits.test.tensors[0]])
    y = torch.cat([splits.train.tensors[1], splits.val.tensors[1], splits.test.tensors[1]])
    assert x.shape == (1797, 1, 8, 8) and sorted(y.tolist()) == sorted(bunch.target.tolist())
    raw = torch.tensor(bunch.data, dtype=torch.float32).div(16).view(-1, 1, 8, 8)
    restored = x * DIGITS_STD + DIGITS_MEAN
    assert sorted(map(tuple, restored.flatten(1).round(decimals=4).tolist())) == \
        sorted(map(tuple, raw.flatten(1).round(decimals=4).tolist()))
    assert abs(x.mean().item()) < 1e-3 and abs(x.std().item() - 1) < 1e-3  # the constants are the set's own
