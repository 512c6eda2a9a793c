"""Fine-tuning a pruned model: a short SGD loop that announces the training loop's events to its observers."""
from __future__ import annotations

import math
import time
from typing import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from slimcore.data import DataSplits
from slimcore.training.batches import batch_generator, epoch_batches, iterate_batches, steps_per_epoch
from slimcore.training.evaluate import evaluate
from slimcore.training.events import EpochInfo, Observer, Snapshot, StepInfo
from slimcore.training.snapshots import sparsity_figures


def _optimizer(model: nn.Module, lr: float, momentum: float, weight_decay: float) -> torch.optim.SGD:
    for p in model.parameters():
        p.requires_grad_(True)
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)


def _loss_step(model, optimizer, x, y) -> tuple[torch.Tensor, torch.Tensor]:
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach(), logits.detach()


def train_steps(model: nn.Module, data: DataSplits, steps: int, lr: float, batch_size: int = 64, seed: int = 0,
                momentum: float = 0.9, weight_decay: float = 1e-4) -> nn.Module:
    """`steps` SGD steps on the train split in a fixed batch order (LeGR's short fine-tune τ), in place."""
    if steps <= 0:
        return model.eval()
    optimizer = _optimizer(model, lr, momentum, weight_decay)
    model.train()
    n, done, epoch = len(data.train), 0, 0
    with torch.random.fork_rng():  # dropout draws from a fixed seed without disturbing the caller's RNG
        torch.manual_seed(seed)
        while done < steps:
            batches = epoch_batches(n, batch_size, seed, epoch)[: steps - done]
            for b, (x, y) in enumerate(iterate_batches(data.train, batches, torch.device("cpu"))):
                if data.augment is not None:
                    x = data.augment(x, batch_generator(seed, epoch, b))
                _loss_step(model, optimizer, x, y)
            done += len(batches)
            epoch += 1
    return model.eval()


class FineTuner:
    """Fine-tunes for whole epochs (cosine lr to 0), emitting on_start/on_step/on_snapshot/on_epoch_end/on_end."""

    def __init__(self, model: nn.Module, data: DataSplits, epochs: int, lr: float, batch_size: int = 64,
                 seed: int = 0, momentum: float = 0.9, weight_decay: float = 1e-4,
                 observers: Iterable[Observer] = (), stop_requested: Callable[[], bool] | None = None,
                 log_every: int = 10) -> None:
        self.model, self.data, self.epochs, self.seed = model, data, epochs, seed
        self.batch_size, self.log_every = batch_size, log_every
        self.observers = list(observers)
        self.stop_requested = stop_requested or (lambda: False)
        self.device = torch.device("cpu")
        self.bns = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)]
        # what StoreRecorder reads from a trainer
        self.layers = [{"name": n, "size": m.num_features} for n, m in self.bns]
        self.steps_per_epoch = steps_per_epoch(len(data.train), batch_size)
        self.total_steps = self.steps_per_epoch * epochs
        self.step = 0
        self.epoch = 0
        self.optimizer = _optimizer(model, lr, momentum, weight_decay)
        total = max(self.total_steps, 1)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))

    def _emit(self, event: str, *args) -> None:
        for obs in self.observers:
            getattr(obs, event)(self, *args)

    def _snapshot(self, at_epoch_end: bool) -> Snapshot:
        with torch.no_grad():
            gamma = torch.cat([m.weight.reshape(-1) for _, m in self.bns]).float().numpy().copy()
            beta = torch.cat([m.bias.reshape(-1) for _, m in self.bns]).float().numpy().copy()
        return Snapshot(self.step, self.step / max(self.steps_per_epoch, 1), at_epoch_end, gamma, beta)

    def fit(self) -> tuple[str, str]:
        """Runs every epoch (or until a stop is requested); returns (status, message) like Trainer.fit."""
        self._emit("on_start")
        self._emit("on_snapshot", self._snapshot(False))
        while self.epoch < self.epochs:
            t0 = time.perf_counter()
            self.model.train()
            sums = np.zeros(3)  # loss sum, correct, samples of this epoch
            window = np.zeros(3)
            batches = epoch_batches(len(self.data.train), self.batch_size, self.seed, self.epoch)
            for b, (x, y) in enumerate(iterate_batches(self.data.train, batches, self.device)):
                if self.data.augment is not None:
                    x = self.data.augment(x, batch_generator(self.seed, self.epoch, b))
                lr = self.optimizer.param_groups[0]["lr"]
                loss, logits = _loss_step(self.model, self.optimizer, x, y)
                self.scheduler.step()
                self.step += 1
                stats = np.array([loss.item() * len(y), (logits.argmax(1) == y).sum().item(), len(y)])
                if not math.isfinite(stats[0]):
                    return self._finish("diverged", f"fine-tuning loss became NaN/inf at step {self.step}: "
                                                    "lower the fine-tuning learning rate.")
                sums += stats
                window += stats
                if self.step % self.log_every == 0 or b == len(batches) - 1:
                    self._emit("on_step", StepInfo(self.step, self.step / self.steps_per_epoch,
                                                   window[0] / window[2], window[1] / window[2], lr,
                                                   self.step / max(self.total_steps, 1)))
                    window[:] = 0
                if self.stop_requested():
                    return self._finish("stopped", f"fine-tuning stopped at step {self.step}.")
            val_loss, val_acc = evaluate(self.model, self.data.val)
            self.epoch += 1
            snap = self._snapshot(True)
            self._emit("on_snapshot", snap)
            self._emit("on_epoch_end", EpochInfo(
                epoch=self.epoch, step=self.step, train_loss=sums[0] / sums[2], train_accuracy=sums[1] / sums[2],
                val_loss=val_loss, val_accuracy=val_acc, lr=self.optimizer.param_groups[0]["lr"],
                sparsity=sparsity_figures(snap.gamma), seconds=time.perf_counter() - t0))
        self.model.eval()
        return self._finish("finished", "")

    def _finish(self, status: str, message: str) -> tuple[str, str]:
        self.model.eval()
        self._emit("on_end", status, message)
        return status, message
