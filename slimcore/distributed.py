"""Data-parallel training under torchrun: PyTorch's own process group and DistributedDataParallel.

`torchrun --nproc_per_node N -m slimcore train ...` starts N copies of the command with RANK, WORLD_SIZE,
LOCAL_RANK and the rendezvous address in their environment. `from_environment()` joins the process group
(NCCL on CUDA, gloo on CPU); rank 0 alone writes the run store and checkpoints, and hands the run id,
config and checkpoint to the other ranks with a broadcast.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from slimcore.errors import ConfigError


@dataclass(frozen=True)
class DistContext:
    """This process's place in a data-parallel job."""

    rank: int
    world_size: int
    local_rank: int
    backend: str

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def device(self, spec: str) -> str:
        """The device this rank trains on: its own GPU (cuda:LOCAL_RANK) when the run uses CUDA."""
        if "nccl" in self.backend and spec.split(":")[0] in ("auto", "cuda"):
            return f"cuda:{self.local_rank}"
        return spec

    def broadcast(self, value: Any) -> Any:
        """Rank 0's `value` on every rank (any picklable object)."""
        box = [value if self.is_main else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sum of `values` over all ranks (a CPU tensor: gloo carries it, in either group)."""
        t = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(t)
        return t.tolist()

    def any(self, flag: bool) -> bool:
        """True on every rank when `flag` is true on at least one (a stop asked of any rank stops all)."""
        return self.sum([1.0 if flag else 0.0])[0] > 0

    def sync_buffers(self, module: torch.nn.Module) -> None:
        """Copies rank 0's buffers (BN running statistics) to every rank, so all evaluate one model."""
        for buffer in module.buffers():
            dist.broadcast(buffer, src=0)

    def shard(self, indices: list[int]) -> tuple[list[int], float]:
        """This rank's share of one global batch, and the weight that makes DDP's gradient average equal
        the single-process gradient of the whole batch.

        Every share has at least two samples (BatchNorm cannot normalise one sample on a 1×1 map): a batch of
        at least two per rank is dealt round-robin; a smaller one (an epoch's last) in contiguous pairs, an
        odd leftover joining the last pair, and a rank left without samples re-reads the first two at weight 0
        so it still joins the gradient all-reduce.
        """
        n, world = len(indices), self.world_size
        if n >= 2 * world:
            mine = indices[self.rank::world]
        else:
            pairs = max(n // 2, 1)
            if self.rank >= pairs:
                return indices[:2], 0.0
            end = n if self.rank == pairs - 1 else 2 * self.rank + 2
            mine = indices[2 * self.rank:end]
        return mine, len(mine) * world / n


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def from_environment(device: str = "auto") -> DistContext | None:
    """Joins the process group torchrun set up; None when this is a single-process run.

    With CUDA present the group has both backends: NCCL for CUDA tensors (the gradients of a GPU run), gloo
    for CPU tensors (small reductions, and every collective of a run configured for the CPU).
    """
    if not launched_by_torchrun():
        return None
    if not dist.is_available():
        raise ConfigError("this PyTorch build has no torch.distributed; run without torchrun.")
    cuda = torch.cuda.is_available()
    if device.split(":")[0] == "cuda" and not cuda:
        raise ConfigError("--device cuda was asked for but this machine has no CUDA GPU; use --device cpu.")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if cuda:
        if local_rank >= torch.cuda.device_count():
            raise ConfigError(f"torchrun started more processes on this machine than it has GPUs "
                              f"({torch.cuda.device_count()}): lower --nproc_per_node to the GPU count.")
        torch.cuda.set_device(local_rank)
    backend = "cpu:gloo,cuda:nccl" if cuda else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return DistContext(rank=dist.get_rank(), world_size=dist.get_world_size(), local_rank=local_rank,
                       backend=backend)


def shutdown(ctx: DistContext | None) -> None:
    if ctx is not None and dist.is_initialized():
        dist.destroy_process_group()
