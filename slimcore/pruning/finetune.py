"""Fine-tuning a pruned model with the training loop itself: its schedules, its events and its observers."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable

import torch
from torch import nn

from slimcore.config import TrainConfig
from slimcore.data import DataSplits
from slimcore.pruning.distill import DistillingTrainer
from slimcore.pruning.settings import FineTuneSettings
from slimcore.training.events import EpochInfo, Observer
from slimcore.training.trainer import Trainer


def finetune_config(parent: dict, epochs: int, lr: float, schedule: str, device: str,
                    batch_size: int | None = None, seed: int | None = None, with_penalty: bool = False) -> TrainConfig:
    """The parent run's settings with no penalty (its own with `with_penalty`): same model, data, optimizer and batch
    size, new epochs and lr."""
    penalty = ({"penalty": parent.get("penalty", "none"), "lam": parent.get("lam", 0.0),
                "penalty_params": parent.get("penalty_params") or {}} if with_penalty
               else {"penalty": "none", "lam": 0.0, "penalty_params": {}})
    return TrainConfig(model=parent["model"], dataset=parent["dataset"], data_root=parent.get("data_root"),
                       **penalty, epochs=max(int(epochs), 1), lr=float(lr),
                       momentum=parent.get("momentum", 0.9), weight_decay=parent.get("weight_decay", 1e-4),
                       batch_size=batch_size or parent.get("batch_size", 64), schedule=schedule,
                       seed=parent.get("seed", 0) if seed is None else seed, device=device,
                       snapshot_every=parent.get("snapshot_every", 10))


class EpochKeeper(Observer):
    """Keeps a copy of the weights at the start and after every whole epoch, so a stopped fine-tune can go back
    to its last whole epoch."""

    def __init__(self) -> None:
        self.state: dict | None = None
        self.epochs = 0

    def _keep(self, trainer) -> None:
        self.state = {k: v.detach().to("cpu", copy=True) for k, v in trainer.model.state_dict().items()}

    def on_start(self, trainer) -> None:
        self._keep(trainer)

    def on_epoch_end(self, trainer, info: EpochInfo) -> None:
        self._keep(trainer)
        self.epochs = info.epoch


@dataclass(frozen=True)
class FineTuneResult:
    status: str  # finished, stopped, diverged
    message: str
    epochs: int  # whole epochs the returned weights were trained for


def finetune(model: nn.Module, data: DataSplits, parent: dict, settings: FineTuneSettings,
             observers: Iterable[Observer] = (), stop_requested: Callable[[], bool] | None = None,
             teacher: nn.Module | None = None, with_penalty: bool = False) -> FineTuneResult:
    """Fine-tunes `model` in place (ending on the CPU, in eval mode), distilled from `teacher` (left unchanged) when
    `settings.distill`, under the parent's penalty with `with_penalty`. A stop, or a loss that turns NaN, goes
    back to the weights of the last whole epoch (the cut model itself before the first)."""
    if settings.epochs == 0:
        return FineTuneResult("skipped", "", 0)
    config = finetune_config(parent, settings.epochs, settings.lr, settings.schedule, settings.device,
                             with_penalty=with_penalty)
    keeper = EpochKeeper()
    loop = dict(observers=[keeper, *observers], stop_requested=stop_requested, data=data, model=model)
    if settings.distill:
        if teacher is None:
            raise ValueError("distilled fine-tuning needs the teacher: the unpruned model")
        trainer = DistillingTrainer(config, teacher, settings.distill_temperature, settings.distill_weight, **loop)
    else:
        trainer = Trainer(config, **loop)
    status, message = trainer.fit()
    if status != "finished":
        model.load_state_dict(keeper.state)
        kept = f"the weights of epoch {keeper.epochs} are kept" if keeper.epochs else "the cut model is kept as it was"
        message = (f"fine-tuning stopped during epoch {keeper.epochs + 1} of {settings.epochs}; {kept}."
                   if status == "stopped" else f"{message} Fine-tuning ended; {kept}.")
    model.cpu().eval()
    return FineTuneResult(status, message, keeper.epochs if status != "finished" else settings.epochs)


def train_steps(model: nn.Module, data: DataSplits, parent: dict, steps: int, lr: float, batch_size: int = 64,
                seed: int = 0) -> nn.Module:
    """`steps` SGD steps at a constant lr on the train split in a fixed batch order, on the CPU, in place (LeGR's
    short fine-tune τ per candidate); the caller's random state is left as it was."""
    if steps <= 0:
        return model.eval()
    epochs = math.ceil(steps / max(math.ceil(len(data.train) / batch_size), 1))
    config = finetune_config(parent, epochs, lr, "constant", "cpu", batch_size, seed)
    with torch.random.fork_rng():
        Trainer(config, data=data, model=model).fit(max_steps=steps)
    return model.eval()

