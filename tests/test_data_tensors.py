"""In-memory images kept as uint8 (`slimcore.data.tensors`): an item is (x/255 − mean)/std as float32, and a whole
batch read at once equals the items read one by one."""
from __future__ import annotations

import pytest
import torch

from slimcore.data.tensors import NormalizedImages


def test_items_are_normalised_per_channel_and_the_batch_path_agrees():
    images = torch.tensor([[[[0, 255]], [[51, 102]]], [[[255, 0]], [[0, 0]]]], dtype=torch.uint8)  # 2×2×1×2
    data = NormalizedImages(images, torch.tensor([3, 1]), mean=(0.5, 0.2), std=(0.5, 0.1))
    x, y = data[0]
    assert x.dtype == torch.float32 and y == 3 and isinstance(y, int)
    assert torch.allclose(x, torch.tensor([[[-1.0, 1.0]], [[0.0, 2.0]]]), atol=1e-6)
    batch = data.__getitems__([1, 0])
    assert [label for _, label in batch] == [1, 3]
    assert torch.equal(batch[0][0], data[1][0]) and torch.equal(batch[1][0], data[0][0])
    assert len(data) == 2 and data.images.dtype == torch.uint8  # stored as given, a quarter of float32


@pytest.mark.parametrize("images, labels", [(torch.zeros(2, 1, 2, 2), torch.zeros(2)),
                                            (torch.zeros(2, 2, 2, dtype=torch.uint8), torch.zeros(2)),
                                            (torch.zeros(2, 1, 2, 2, dtype=torch.uint8), torch.zeros(3))])
def test_anything_but_uint8_nchw_with_one_label_each_is_refused(images, labels):
    with pytest.raises(ValueError, match="images must be uint8 N×C×H×W with one label each"):
        NormalizedImages(images, labels, (0.0,), (1.0,))
