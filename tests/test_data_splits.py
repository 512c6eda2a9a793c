"""DataSplits and the deterministic split (`slimcore.data.splits`): disjoint, complete, fixed by the seed alone; the
embedded sets cut by it have their documented sizes."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from slimcore.data import DataSplits, load_dataset
from slimcore.data.splits import permutation, split_indices


def _row_ids(x: torch.Tensor) -> set[bytes]:
    return {row.numpy().tobytes() for row in x}


@pytest.mark.parametrize("name,sizes,shape", [
    ("mnist5k", (4000, 500, 500), (1, 28, 28)),
    ("digits", (1257, 270, 270), (1, 8, 8)),
])
def test_embedded_sets_sizes_determinism_disjoint(name: str, sizes: tuple, shape: tuple) -> None:
    a, b = load_dataset(name, seed=3), load_dataset(name, seed=3)
    assert isinstance(a, DataSplits) and a.augment is None
    assert (len(a.train), len(a.val), len(a.test)) == sizes
    assert a.input_shape == shape and a.num_classes == 10 and a.class_names == [str(d) for d in range(10)]
    x, y = a.train[0]
    assert x.dtype == torch.float32 and x.shape == shape and 0 <= int(y) < 10
    for split in ("train", "val", "test"):
        for ta, tb in zip(getattr(a, split).tensors, getattr(b, split).tensors):
            assert torch.equal(ta, tb)
    ids = [_row_ids(getattr(a, s).tensors[0]) for s in ("train", "val", "test")]
    # Disjoint as sets of images; a few duplicated images in the source could collide, so allow none here.
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])
    other = load_dataset(name, seed=4)
    assert not torch.equal(other.val.tensors[1], a.val.tensors[1])


def test_split_indices_are_disjoint_complete_and_sized():
    train, val, test = split_indices(50, 7, 5, seed=3)
    assert (len(train), len(val), len(test)) == (38, 7, 5)
    assert sorted(torch.cat([train, val, test]).tolist()) == list(range(50))
    again = split_indices(50, 7, 5, seed=3)
    assert all(torch.equal(a, b) for a, b in zip((train, val, test), again))
    assert not torch.equal(split_indices(50, 7, 5, seed=4)[1], val)


def test_the_permutation_ignores_torch_global_random_state():
    torch.manual_seed(0)
    a = permutation(20, seed=9)
    torch.manual_seed(1)
    torch.rand(100)
    assert torch.equal(permutation(20, seed=9), a)
    assert a.tolist() == np.random.default_rng(9).permutation(20).tolist()


def test_input_shape_is_channels_and_the_square_size():
    splits = DataSplits("x", [], [], [], num_classes=3, in_channels=2, image_size=5, class_names=["a", "b", "c"])
    assert splits.input_shape == (2, 5, 5) and splits.augment is None


def test_hold_out_takes_the_last_share_of_train_and_leaves_the_rest():
    from torch.utils.data import TensorDataset

    from slimcore.data.splits import DataSplits, hold_out

    train = TensorDataset(torch.arange(20).float(), torch.arange(20))
    data = DataSplits("d", train, train, train, 2, 1, 1, ["a", "b"])
    rest, held = hold_out(data, 0.15)
    assert list(held.indices) == [17, 18, 19] and list(rest.train.indices) == list(range(17))
    assert rest.val is data.val and rest.test is data.test and rest.num_classes == 2
    assert len(hold_out(data, 0.999)[0].train) == 1  # both sides keep at least one item
