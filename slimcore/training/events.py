"""What the training loop announces; observers (run store, progress bar, tests) pick what to record."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class StepInfo:
    """Averages over the steps since the previous StepInfo (the loop reads the device only then)."""

    step: int
    epoch: float
    loss: float
    accuracy: float
    lr: float
    progress: float  # 0..1 over the whole run


@dataclass
class Snapshot:
    """Every BN layer's γ and β, concatenated in `Trainer.layers` order."""

    step: int
    epoch: float
    at_epoch_end: bool
    gamma: np.ndarray
    beta: np.ndarray


@dataclass
class EpochInfo:
    epoch: int
    step: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    lr: float
    sparsity: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


class Observer:
    """Base observer: every hook is a no-op; override the ones you need."""

    def on_start(self, trainer) -> None: ...

    def on_step(self, trainer, info: StepInfo) -> None: ...

    def on_snapshot(self, trainer, snap: Snapshot) -> None: ...

    def on_epoch_end(self, trainer, info: EpochInfo) -> None: ...

    def on_checkpoint(self, trainer, path, step: int, epoch: float) -> None: ...

    def on_warning(self, trainer, message: str) -> None: ...

    def on_note(self, trainer, message: str) -> None: ...

    def on_end(self, trainer, status: str, message: str) -> None: ...
