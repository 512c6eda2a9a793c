"""Learning-rate schedules, stepped once per optimizer step."""
from __future__ import annotations

import math

import torch


def make_scheduler(optimizer: torch.optim.Optimizer, kind: str, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """cosine: to 0 over the run; step: ÷10 at 50 % and 75 % (network slimming); constant."""
    total = max(total_steps, 1)
    if kind == "cosine":
        factor = lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total))  # noqa: E731
    elif kind == "step":
        factor = lambda s: 0.1 ** ((s >= 0.5 * total) + (s >= 0.75 * total))  # noqa: E731
    else:
        factor = lambda s: 1.0  # noqa: E731
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
