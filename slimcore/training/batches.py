"""Deterministic batch order: a permutation per (seed, epoch), so a run can resume mid-epoch exactly."""
from __future__ import annotations

from typing import Iterator, Sequence

import torch
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset


def epoch_batches(n: int, batch_size: int, seed: int, epoch: int, start_batch: int = 0) -> list[list[int]]:
    """Index lists of one epoch's batches (last partial batch kept), from batch `start_batch` on."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    order = torch.randperm(n, generator=g).tolist()
    return [order[i:i + batch_size] for i in range(start_batch * batch_size, n, batch_size)]


def sequential_batches(n: int, batch_size: int) -> list[list[int]]:
    return [list(range(i, min(i + batch_size, n))) for i in range(0, n, batch_size)]


def steps_per_epoch(n: int, batch_size: int) -> int:
    return (n + batch_size - 1) // batch_size


def batch_generator(seed: int, epoch: int, batch: int, rank: int = 0) -> torch.Generator:
    """The generator a batch's augmentation draws from: fixed by (seed, epoch, batch), and under torchrun by the
    rank too, so the ranks' shares of one batch get independent crops and flips (rank 0 draws as one process)."""
    base = (seed * 1_000_003 + epoch) * 100_003 + batch
    return torch.Generator().manual_seed(base if rank == 0 else (base * 10_007 + rank) % 2**63)


def _tensors(dataset: Dataset) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(X, Y) when the data set is in memory (TensorDataset, or a Subset of one), else None."""
    if isinstance(dataset, TensorDataset) and len(dataset.tensors) == 2:
        return dataset.tensors[0], dataset.tensors[1]
    if isinstance(dataset, Subset):
        inner = _tensors(dataset.dataset)
        if inner is not None:
            idx = torch.as_tensor(dataset.indices)
            return inner[0][idx], inner[1][idx]
    return None


# In-memory data sets up to this size are copied to the GPU once instead of batch by batch.
RESIDENT_MAX_BYTES = 2 * 1024**3


def resident_on(dataset: Dataset, device: torch.device, max_bytes: int = RESIDENT_MAX_BYTES) -> Dataset:
    """`dataset` held on `device` when it is an in-memory set small enough (CUDA only), else unchanged."""
    if device.type != "cuda":
        return dataset
    tensors = _tensors(dataset)
    if tensors is None or sum(t.numel() * t.element_size() for t in tensors) > max_bytes:
        return dataset
    return TensorDataset(tensors[0].to(device), tensors[1].to(device))


def iterate_batches(dataset: Dataset, batches: Sequence[list[int]], device: torch.device,
                    num_workers: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yields (x, y) on `device` for each index list; in-memory data is sliced, not collated."""
    pin = device.type == "cuda"
    tensors = _tensors(dataset)
    if tensors is not None:
        xs, ys = tensors
        for idx in batches:
            index = torch.as_tensor(idx, device=xs.device)
            yield xs[index].to(device, non_blocking=pin), ys[index].to(device, non_blocking=pin)
        return
    loader = DataLoader(dataset, batch_sampler=list(batches), num_workers=num_workers, pin_memory=pin,
                        persistent_workers=False)
    for x, y in loader:
        yield x.to(device, non_blocking=pin), torch.as_tensor(y).to(device, non_blocking=pin)
