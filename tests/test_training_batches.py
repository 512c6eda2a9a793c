"""Deterministic batches (`slimcore.training.batches`): one permutation per (seed, epoch) so a resume mid-epoch replays
the rest exactly, augmentation draws fixed by (seed, epoch, batch, rank), and in-memory data sliced, not collated."""
from __future__ import annotations

import torch
from torch.utils.data import Subset, TensorDataset

from slimcore.training.batches import (batch_generator, epoch_batches, iterate_batches, resident_on,
                                       sequential_batches, steps_per_epoch)


def test_in_memory_data_stays_put_on_cpu_and_batches_are_unchanged():
    data = TensorDataset(torch.arange(40.0).view(10, 4), torch.arange(10))
    assert resident_on(data, torch.device("cpu")) is data
    (x, y), = list(iterate_batches(data, [[3, 1, 7]], torch.device("cpu")))
    assert y.tolist() == [3, 1, 7] and torch.equal(x[:, 0], torch.tensor([12.0, 4.0, 28.0]))


def test_an_epoch_is_a_permutation_and_a_resume_mid_epoch_gets_its_remaining_batches():
    full = epoch_batches(23, 5, seed=2, epoch=3)
    assert [len(b) for b in full] == [5, 5, 5, 5, 3] and sorted(i for b in full for i in b) == list(range(23))
    assert epoch_batches(23, 5, seed=2, epoch=3, start_batch=2) == full[2:]
    assert epoch_batches(23, 5, seed=2, epoch=3) == full  # fixed by (seed, epoch) alone
    assert epoch_batches(23, 5, seed=2, epoch=4) != full and epoch_batches(23, 5, seed=3, epoch=3) != full
    assert steps_per_epoch(23, 5) == 5 == len(full) and steps_per_epoch(20, 5) == 4
    assert sequential_batches(7, 3) == [[0, 1, 2], [3, 4, 5], [6]]


def test_augmentation_draws_are_fixed_by_seed_epoch_batch_and_rank():
    def draw(*key):
        return torch.rand(4, generator=batch_generator(*key))

    assert torch.equal(draw(1, 2, 3), draw(1, 2, 3)) and torch.equal(draw(1, 2, 3), draw(1, 2, 3, 0))
    others = [draw(2, 2, 3), draw(1, 3, 3), draw(1, 2, 4), draw(1, 2, 3, 1)]
    assert all(not torch.equal(draw(1, 2, 3), o) for o in others)


class Plain(torch.utils.data.Dataset):
    """Not in memory as tensors: batches go through a DataLoader."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return torch.full((2,), float(i)), i


def test_a_subset_of_tensors_is_sliced_and_other_data_sets_are_loaded_in_the_same_order():
    data = TensorDataset(torch.arange(20.0).view(10, 2), torch.arange(10))
    subset = Subset(data, [9, 4, 7])
    (x, y), = iterate_batches(subset, [[2, 0]], torch.device("cpu"))
    assert y.tolist() == [7, 9] and x[:, 0].tolist() == [14.0, 18.0]
    (x, y), (x2, y2) = iterate_batches(Plain(), [[5, 1], [3]], torch.device("cpu"))
    assert y.tolist() == [5, 1] and x[:, 0].tolist() == [5.0, 1.0] and y2.tolist() == [3]
    assert resident_on(Plain(), torch.device("cpu")).__class__ is Plain
