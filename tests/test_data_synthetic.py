"""synthetic (`slimcore.data.synthetic`): seeded random tensors of CIFAR's shapes for speed benchmarks."""
from __future__ import annotations

import torch


def test_synthetic_data_has_cifar_shapes_and_is_seeded():
    from slimcore.data import load_dataset

    a, b = load_dataset("synthetic", seed=1, train_size=50), load_dataset("synthetic", seed=1, train_size=50)
    x, y = a.train[0]
    assert x.shape == (3, 32, 32) and a.input_shape == (3, 32, 32) and a.num_classes == 10 and 0 <= int(y) < 10
    assert len(a.train) == 50 and torch.equal(a.train.tensors[0], b.train.tensors[0])


def test_sizes_and_another_seed():
    from slimcore.data import load_dataset

    a = load_dataset("synthetic", seed=1, train_size=20, image_size=16)
    assert (len(a.train), len(a.val), len(a.test)) == (20, 1000, 1000) and a.input_shape == (3, 16, 16)
    assert not torch.equal(load_dataset("synthetic", seed=2, train_size=20).train.tensors[1], a.train.tensors[1])
