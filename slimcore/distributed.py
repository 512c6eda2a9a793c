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
        if self.backend == "nccl" and spec.split(":")[0] in ("auto", "cuda"):
            return f"cuda:{self.local_rank}"
        return spec

    def broadcast(self, value: Any) -> Any:
        """Rank 0's `value` on every rank (any picklable object)."""
        box = [value if self.is_main else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sum of `values` over all ranks."""
        t = torch.tensor(values, dtype=torch.float64, device=self._collective_device())
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
        the single-process gradient of the whole batch. A rank left without samples (a last batch smaller
        than the world) gets one duplicate sample at weight 0, so every rank still joins the all-reduce."""
        mine = indices[self.rank::self.world_size]
        if not mine:
            return indices[:1], 0.0
        return mine, len(mine) * self.world_size / len(indices)

    def _collective_device(self) -> torch.device:
        if self.backend == "nccl":
            return torch.device("cuda", self.local_rank)
        return torch.device("cpu")


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def from_environment(device: str = "auto") -> DistContext | None:
    """Joins the process group torchrun set up; None when this is a single-process run."""
    if not launched_by_torchrun():
        return None
    if not dist.is_available():
        raise ConfigError("this PyTorch build has no torch.distributed; run without torchrun.")
    wants_cuda = device.split(":")[0] in ("auto", "cuda") and torch.cuda.is_available()
    if device.split(":")[0] == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for but this machine has no CUDA GPU; use --device cpu.")
    backend = "nccl" if wants_cuda else "gloo"
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if wants_cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return DistContext(rank=dist.get_rank(), world_size=dist.get_world_size(), local_rank=local_rank,
                       backend=backend)


def shutdown(ctx: DistContext | None) -> None:
    if ctx is not None and dist.is_initialized():
        dist.destroy_process_group()
