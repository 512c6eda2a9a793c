"""Batch augmentation (`slimcore.data.augment`): a random crop of the zero-padded batch and a random flip per sample,
drawn only from the generator it is given."""
from __future__ import annotations

import pytest
import torch

from slimcore.data.augment import random_crop_flip


def test_crop_flip_is_deterministic_and_keeps_shape() -> None:
    batch = torch.randn(16, 3, 32, 32)
    a = random_crop_flip(batch, torch.Generator().manual_seed(7))
    b = random_crop_flip(batch, torch.Generator().manual_seed(7))
    c = random_crop_flip(batch, torch.Generator().manual_seed(8))
    assert a.shape == batch.shape and torch.equal(a, b) and not torch.equal(a, c)
    state = torch.get_rng_state()
    random_crop_flip(batch, torch.Generator().manual_seed(7))
    assert torch.equal(state, torch.get_rng_state()), "must not touch the global RNG"


def test_crop_flip_moves_pixels_as_a_crop_or_mirror() -> None:
    batch = torch.arange(2 * 1 * 6 * 6, dtype=torch.float32).view(2, 1, 6, 6) + 1
    out = random_crop_flip(batch, torch.Generator().manual_seed(0), padding=0)
    for original, augmented in zip(batch, out):  # no padding: each sample is itself or its mirror
        assert torch.equal(augmented, original) or torch.equal(augmented, original.flip(2))
    padded = random_crop_flip(batch, torch.Generator().manual_seed(1), padding=2)
    for original, augmented in zip(batch, padded):  # every non-zero pixel comes from the same sample
        values = set(augmented[augmented != 0].tolist())
        assert values <= set(original.flatten().tolist())


def test_crop_flip_matches_a_reference_loop() -> None:
    batch = torch.randn(5, 2, 7, 9)
    out = random_crop_flip(batch, torch.Generator().manual_seed(3), padding=3)
    g = torch.Generator().manual_seed(3)
    top, left = torch.randint(0, 7, (5,), generator=g), torch.randint(0, 7, (5,), generator=g)
    flip = torch.rand(5, generator=g) < 0.5
    padded = torch.nn.functional.pad(batch, (3, 3, 3, 3))
    for i in range(5):
        expected = padded[i, :, top[i]:top[i] + 7, left[i]:left[i] + 9]
        assert torch.equal(out[i], expected.flip(2) if flip[i] else expected)


def test_a_negative_padding_is_refused():
    with pytest.raises(ValueError, match="padding must be ≥ 0, got -1"):
        random_crop_flip(torch.zeros(1, 1, 4, 4), torch.Generator(), padding=-1)
