"""Trainer: SGD on a zoo model with a sparsity penalty on BN γ; announces events, checkpoints, resumes."""
from __future__ import annotations

import contextlib
import math
import time
from pathlib import Path
from typing import Callable, Iterable

import torch
import torch.nn.functional as F

from slimcore.config import TrainConfig
from slimcore.data import load_dataset
from slimcore.devices import choose_device
from slimcore.distributed import DistContext
from slimcore.errors import CheckpointError
from slimcore.penalties import PenaltyContext, bn_layers
from slimcore.store.checkpoints import TRAIN_FORMAT, remove_stale_temps, save_checkpoint
from slimcore.training.batches import (batch_generator, epoch_batches, iterate_batches, resident_on,
                                       steps_per_epoch)
from slimcore.training.evaluate import evaluate, evaluate_sums
from slimcore.training.events import EpochInfo, Observer, Snapshot, StepInfo
from slimcore.training.health import divergence_message
from slimcore.training.schedules import make_scheduler
from slimcore.training.snapshots import capture, sparsity_figures
from slimcore.training.start import starting_model


class Trainer:
    """Builds data, model, penalty and optimizer from a TrainConfig; `fit()` runs to the end or a stop.

    With a DistContext (under torchrun) the model is wrapped in DistributedDataParallel and each rank trains
    on its share of every global batch (`config.batch_size` is the global batch); the penalty acts on the
    synchronised gradients and parameters, so every rank applies it identically. Observers and checkpoints
    belong on rank 0 only.
    """

    def __init__(self, config: TrainConfig, observers: Iterable[Observer] = (),
                 stop_requested: Callable[[], bool] | None = None, checkpoint_path: str | Path | None = None,
                 data=None, dist: DistContext | None = None, model: torch.nn.Module | None = None,
                 initial_weights: bool = True) -> None:
        self.config = config
        self.dist = dist
        self.observers = list(observers)
        self.stop_requested = stop_requested or (lambda: False)
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path else None
        if self.checkpoint_path is not None and self.checkpoint_path.parent.is_dir():
            remove_stale_temps(self.checkpoint_path)  # half-written files of a job that was killed
        self.device = choose_device(dist.device(config.device) if dist else config.device)
        self.data = data if data is not None else load_dataset(config.dataset, root=config.data_root, seed=config.seed)
        torch.manual_seed(config.seed)
        self.notes, self.unprunable = [], None  # told once at step 0; why pruning cannot handle the model
        if model is None:
            start = starting_model(config, self.data, initial_weights)
            model, self.notes, self.unprunable = start.model, start.notes, start.unprunable
        else:
            for p in model.parameters():
                p.requires_grad_(True)
        self.model = model
        self.model.to(self.device)
        cuda = self.device.type == "cuda"
        if cuda and config.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.bns = [bn for _, bn in bn_layers(self.model)]
        self.layers = [{"name": name, "size": bn.num_features} for name, bn in bn_layers(self.model)]
        self.steps_per_epoch = steps_per_epoch(len(self.data.train), config.batch_size)
        self.total_steps = self.steps_per_epoch * config.epochs
        self.penalty = config.build_penalty()
        self.ctx = PenaltyContext(step=0, epoch=0, total_steps=self.total_steps, lr=config.lr,
                                  sample_input=self.data.train[0][0].unsqueeze(0).to(self.device))
        self.penalty.setup(self.model, self.ctx)
        groups = self.penalty.optimizer_groups(self.model, config.lr, config.momentum, config.weight_decay)
        self.optimizer = torch.optim.SGD(groups if groups else self.model.parameters(), lr=config.lr,
                                         momentum=config.momentum, weight_decay=config.weight_decay)
        self.scheduler = make_scheduler(self.optimizer, config.schedule, self.total_steps)
        self.amp_dtype = None
        if cuda and config.amp:
            self.amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        # Small in-memory data sets live on the GPU: batches are sliced there, with no host copies.
        self.train_set = resident_on(self.data.train, self.device)
        self.net = self._wrap(self.model)
        self.step, self.epoch, self.batch_in_epoch = 0, 0, 0
        self._epoch_sums = [0.0, 0.0, 0]  # loss sum, correct, samples of the current epoch so far
        self._saved_step = 0
        self._rank = dist.rank if dist is not None else 0
        self._decorrelate_ranks()

    def _decorrelate_ranks(self) -> None:
        """Ranks other than 0 draw their own random numbers (dropout) from here on; the model was built from one
        seed on every rank and DDP keeps its weights identical, so only the draws differ."""
        if self._rank:
            torch.manual_seed((self.config.seed * 1_000_003 + self.step) * 10_007 + self._rank)

    def _wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """The module the training forward pass runs through: DDP under torchrun, compiled on request."""
        net = model
        if self.dist is not None:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            net = DistributedDataParallel(model, device_ids=ids)
        if self.config.compile:
            net = torch.compile(net)
        return net

    # -- checkpoints -----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        state = {
            "format": TRAIN_FORMAT, "version": 1, "config": self.config.to_dict(),
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(), "scaler": self.scaler.state_dict(),
            "penalty": self.penalty.state_dict(), "step": self.step, "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch, "epoch_sums": list(self._epoch_sums),
            "rng": torch.get_rng_state(), "layers": self.layers,
        }
        if self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        return state

    def load_state_dict(self, state: dict) -> None:
        if state.get("format") != TRAIN_FORMAT:
            raise CheckpointError("this file is not a slimcore training checkpoint; resume needs one "
                                  "written by `slimcore train`.")
        try:
            self.model.load_state_dict(state["model"])
        except RuntimeError as e:
            raise CheckpointError(f"the checkpoint belongs to another architecture than {self.config.model!r}: "
                                  f"{str(e).splitlines()[0][:200]}") from e
        try:
            self.optimizer.load_state_dict(state["optimizer"])
        except ValueError as e:  # another parameter grouping (proximal γ had none before its own group)
            raise CheckpointError("this checkpoint's optimizer groups its parameters differently from this "
                                  "version's (proximal mode now gives γ its own group without momentum): start a "
                                  "new run; the checkpoint's weights can still be pruned.") from e
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        self.penalty.load_state_dict(state["penalty"])
        self.step, self.epoch, self.batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
        self._epoch_sums = list(state["epoch_sums"])
        self._saved_step = self.step
        torch.set_rng_state(state["rng"])
        if "cuda_rng" in state and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"], self.device)
        self._decorrelate_ranks()

    # The message of the last checkpoint that could not be written (None once one is written again).
    checkpoint_error: str | None = None

    def save_checkpoint(self) -> None:
        """Writes the checkpoint atomically; a failure is reported and training goes on (see `_finish`)."""
        if self.checkpoint_path is None:
            return
        try:
            save_checkpoint(self.state_dict(), self.checkpoint_path)
        except CheckpointError as e:
            self.checkpoint_error = str(e)
            self._emit("on_warning", f"{e} Training goes on; the next checkpoint tries again.")
            return
        self.checkpoint_error = None
        self._saved_step = self.step
        self._emit("on_checkpoint", self.checkpoint_path, self.step, self._fractional_epoch())

    # -- the loop --------------------------------------------------------------------------------
    def _emit(self, event: str, *args) -> None:
        for obs in self.observers:
            getattr(obs, event)(self, *args)

    def _fractional_epoch(self) -> float:
        return self.epoch + self.batch_in_epoch / self.steps_per_epoch

    def snapshot(self, at_epoch_end: bool) -> Snapshot:
        gamma, beta = capture(self.bns)
        if gamma.is_pinned():
            torch.cuda.current_stream(self.device).synchronize()
        return Snapshot(self.step, self._fractional_epoch(), at_epoch_end, gamma.numpy(), beta.numpy())

    def _autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def fit(self, max_steps: int | None = None) -> tuple[str, str]:
        """Trains to the last epoch or until a stop is requested; returns (status, message).

        With `max_steps`, exactly that many optimizer steps and nothing else: no validation, snapshots or
        checkpoints, and no events (LeGR's τ fine-tuning steps per candidate).
        """
        cfg = self.config
        self.model.train()
        if max_steps is not None:
            return self._steps(max_steps)
        self._emit("on_start")
        if self.step == 0:
            for note in self.notes:
                self._emit("on_note", note)
            self._emit("on_snapshot", self.snapshot(at_epoch_end=False))
        loss_acc = torch.zeros((), device=self.device)
        correct_acc = torch.zeros((), device=self.device, dtype=torch.long)
        seen = 0
        while self.epoch < cfg.epochs:
            t0 = time.perf_counter()
            batches = epoch_batches(len(self.data.train), cfg.batch_size, cfg.seed, self.epoch, self.batch_in_epoch)
            weights = [1.0] * len(batches)
            if self.dist is not None:  # this rank's share of each global batch, and its loss weight
                shares = [self.dist.shard(b) for b in batches]
                batches, weights = [b for b, _ in shares], [w for _, w in shares]
            for (x, y), weight in zip(iterate_batches(self.train_set, batches, self.device, cfg.num_workers), weights):
                if self.data.augment is not None:
                    x = self.data.augment(x, batch_generator(cfg.seed, self.epoch, self.batch_in_epoch, self._rank))
                lr = self.optimizer.param_groups[0]["lr"]
                loss, logits = self._one_step(x, y, weight)
                if weight > 0:
                    loss_acc += loss * y.numel()
                    correct_acc += (logits.argmax(1) == y).sum()
                    seen += y.numel()
                self.step += 1
                self.batch_in_epoch += 1
                last_batch = self.batch_in_epoch == self.steps_per_epoch
                if self.step % cfg.snapshot_every == 0 or last_batch:
                    loss_sum, correct = loss_acc.item(), correct_acc.item()
                    if self.dist is not None:
                        loss_sum, correct, seen = self.dist.sum([loss_sum, correct, seen])
                        seen = int(seen)
                    if not math.isfinite(loss_sum):
                        return self._finish("diverged", divergence_message(cfg.lr, cfg.lam, self.step))
                    self._epoch_sums = [self._epoch_sums[0] + loss_sum, self._epoch_sums[1] + correct,
                                        self._epoch_sums[2] + seen]
                    self._emit("on_step", StepInfo(self.step, self._fractional_epoch(), loss_sum / seen,
                                                   correct / seen, lr, self.step / self.total_steps))
                    if self.step % cfg.snapshot_every == 0 and not last_batch:
                        self._emit("on_snapshot", self.snapshot(at_epoch_end=False))
                    loss_acc.zero_()
                    correct_acc.zero_()
                    seen = 0
                    if self._stop_agreed() and not last_batch:
                        self.save_checkpoint()
                        return self._finish("stopped", f"stopped at step {self.step}; resume to continue.")
                    if cfg.checkpoint_every and not last_batch and self.step - self._saved_step >= cfg.checkpoint_every:
                        self.save_checkpoint()  # at a report point, so the epoch's running sums are whole
            self._end_epoch(time.perf_counter() - t0)
            if self._stop_agreed() and self.epoch < cfg.epochs:
                return self._finish("stopped", f"stopped after epoch {self.epoch}; resume to continue.")
        self.penalty.teardown(self.model)
        self.save_checkpoint()
        return self._finish("finished", "")

    def _steps(self, count: int) -> tuple[str, str]:
        cfg = self.config
        while self.step < count:
            batches = epoch_batches(len(self.data.train), cfg.batch_size, cfg.seed, self.epoch,
                                    self.batch_in_epoch)[: count - self.step]
            for x, y in iterate_batches(self.train_set, batches, self.device, cfg.num_workers):
                if self.data.augment is not None:
                    x = self.data.augment(x, batch_generator(cfg.seed, self.epoch, self.batch_in_epoch, self._rank))
                self._one_step(x, y, 1.0)
                self.step += 1
                self.batch_in_epoch += 1
            if self.batch_in_epoch == self.steps_per_epoch:
                self.epoch, self.batch_in_epoch = self.epoch + 1, 0
        self.model.eval()
        return "finished", ""

    def _one_step(self, x: torch.Tensor, y: torch.Tensor, weight: float) -> tuple[torch.Tensor, torch.Tensor]:
        """Forward, backward, the penalty's hooks and the optimizer step: (loss, logits), detached."""
        if self.device.type == "cuda" and self.config.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        lr = self.optimizer.param_groups[0]["lr"]
        self.ctx.step, self.ctx.epoch, self.ctx.lr = self.step, self.epoch, lr
        with self._autocast():
            logits = self.net(x)
            loss = self.task_loss(x, logits, y)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss * weight if weight != 1.0 else loss).backward()
        self.scaler.unscale_(self.optimizer)
        self.penalty.after_backward(self.model, self.ctx)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.penalty.after_step(self.model, self.ctx)
        self.scheduler.step()
        return loss.detach(), logits.detach()

    def task_loss(self, x: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """What a step minimises besides the penalty, under the step's autocast: cross-entropy here; distillation
        adds the teacher's soft targets (`slimcore.pruning.distill`)."""
        return F.cross_entropy(logits.float(), y)

    def _stop_agreed(self) -> bool:
        """A stop asked of this process (or, under torchrun, of any rank)."""
        stop = bool(self.stop_requested())
        return self.dist.any(stop) if self.dist is not None else stop

    def _validate(self) -> tuple[float, float]:
        if self.dist is None:
            return evaluate(self.model, self.data.val, self.device)
        # Every rank scores its share of the validation set with rank 0's BN statistics; the sums are added.
        self.dist.sync_buffers(self.model)
        share = torch.utils.data.Subset(self.data.val, range(self.dist.rank, len(self.data.val), self.dist.world_size))
        loss_sum, correct, n = self.dist.sum(list(evaluate_sums(self.model, share, self.device)))
        return (loss_sum / n, correct / n) if n else (float("nan"), float("nan"))

    def _end_epoch(self, seconds: float) -> None:
        loss_sum, correct, n = self._epoch_sums
        val_loss, val_acc = self._validate()
        self.model.train()
        snap = self.snapshot(at_epoch_end=True)
        info = EpochInfo(epoch=self.epoch + 1, step=self.step, train_loss=loss_sum / max(n, 1),
                         train_accuracy=correct / max(n, 1), val_loss=val_loss, val_accuracy=val_acc,
                         lr=self.optimizer.param_groups[0]["lr"], sparsity=sparsity_figures(snap.gamma),
                         seconds=seconds)
        self.epoch += 1
        self.batch_in_epoch = 0
        self._epoch_sums = [0.0, 0.0, 0]
        snap.epoch = float(self.epoch)
        self._emit("on_snapshot", snap)
        self._emit("on_epoch_end", info)
        if self.epoch < self.config.epochs:
            self.save_checkpoint()

    def _finish(self, status: str, message: str) -> tuple[str, str]:
        if self.checkpoint_error and status in ("finished", "stopped"):
            # The latest weights exist only in memory: a run whose last checkpoint failed is not finished.
            done = "trained to" if status == "finished" else "stopped at"
            status = "failed" if status == "finished" else status
            message = (f"{done} step {self.step}, but {self.checkpoint_error} Resume once there is room: "
                       "training continues from that checkpoint.")
        self._emit("on_end", status, message)
        return status, message
