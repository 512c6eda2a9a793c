"""Batch-level augmentation driven only by an explicit generator, so a resumed run replays it exactly."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def random_crop_flip(batch: torch.Tensor, generator: torch.Generator, padding: int = 4) -> torch.Tensor:
    """Random crop back to H×W from a zero-padded batch, then a random horizontal flip, per sample."""
    if padding < 0:
        raise ValueError(f"padding must be ≥ 0, got {padding}")
    n, _, h, w = batch.shape
    # Zero in normalised space is the data set's mean colour, a neutral border.
    padded = F.pad(batch, (padding, padding, padding, padding))
    device = generator.device
    top = torch.randint(0, 2 * padding + 1, (n,), generator=generator, device=device).to(batch.device)
    left = torch.randint(0, 2 * padding + 1, (n,), generator=generator, device=device).to(batch.device)
    flip = (torch.rand(n, generator=generator, device=device) < 0.5).to(batch.device)
    rows = top[:, None] + torch.arange(h, device=batch.device)  # N×H
    cols = left[:, None] + torch.arange(w, device=batch.device)  # N×W
    cols = torch.where(flip[:, None], cols.flip(1), cols)  # a flip is the same gather read right to left
    idx = torch.arange(n, device=batch.device)[:, None, None]
    # Advanced indices around a slice put the indexed dims first: N×H×W×C.
    out = padded[idx, :, rows[:, :, None], cols[:, None, :]]
    return out.permute(0, 3, 1, 2).contiguous()
