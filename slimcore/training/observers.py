"""Observers that record a run: into the run store, and as a terminal progress bar."""
from __future__ import annotations

import sys
import time

from slimcore.store.runs import RunStore
from slimcore.training.events import EpochInfo, Observer, Snapshot, StepInfo
from slimcore.training.snapshots import sparsity_figures


class StoreRecorder(Observer):
    """Writes status, metrics, γ snapshots, checkpoints and the final summary of one run.

    With `owns_status=False` (a loop inside a longer job, like a commit's fine-tuning) it records metrics and
    snapshots only and leaves the run's status and progress to the job.
    """

    def __init__(self, store: RunStore, run_id: str, owns_status: bool = True) -> None:
        self.store = store
        self.run_id = run_id
        self.owns_status = owns_status

    def on_start(self, trainer) -> None:
        world = trainer.dist.world_size if trainer.dist is not None else 1
        self.store.register_writer(self.run_id, f"rank 0 of {world}, {trainer.device}")
        self.store.set_layers(self.run_id, trainer.layers)
        self.store.truncate_after(self.run_id, trainer.step)
        if self.owns_status:
            self.store.set_status(self.run_id, "running", f"training on {trainer.device}")

    def on_step(self, trainer, info: StepInfo) -> None:
        self.store.log_metrics(self.run_id, info.step, info.epoch,
                               {"train_loss": info.loss, "train_accuracy": info.accuracy, "lr": info.lr})
        if self.owns_status:
            self.store.heartbeat(self.run_id, info.progress, done=info.step, total=trainer.total_steps)

    def on_snapshot(self, trainer, snap: Snapshot) -> None:
        self.store.add_snapshot(self.run_id, snap.step, snap.epoch, snap.at_epoch_end, snap.gamma, snap.beta)
        if not snap.at_epoch_end:
            self.store.log_metrics(self.run_id, snap.step, snap.epoch, sparsity_figures(snap.gamma))

    def on_epoch_end(self, trainer, info: EpochInfo) -> None:
        values = {"val_loss": info.val_loss, "val_accuracy": info.val_accuracy,
                  "epoch_train_loss": info.train_loss, "epoch_train_accuracy": info.train_accuracy,
                  "epoch_seconds": info.seconds, **info.sparsity}
        self.store.log_metrics(self.run_id, info.step, float(info.epoch), values)
        if not self.owns_status:
            return
        gamma_max = max((float(bn.weight.detach().abs().max()) for bn in trainer.bns if bn.weight is not None),
                        default=0.0)
        self.store.update_summary(self.run_id, epoch=info.epoch, val_accuracy=info.val_accuracy,
                                  train_accuracy=info.train_accuracy, train_loss=info.train_loss,
                                  gamma_max=gamma_max, num_classes=trainer.data.num_classes, **info.sparsity)
        self.store.heartbeat(self.run_id, info.step / trainer.total_steps, done=info.step, total=trainer.total_steps,
                             message=f"epoch {info.epoch} of {trainer.config.epochs}: val accuracy "
                                     f"{info.val_accuracy:.4f}")

    warned = False  # a warning is the run's status message until the next checkpoint is written

    def on_checkpoint(self, trainer, path, step: int, epoch: float) -> None:
        self.store.add_checkpoint(self.run_id, step, epoch, path)
        if self.warned:
            self.warned = False
            self.store.set_status(self.run_id, "running", f"training on {trainer.device}")

    def on_warning(self, trainer, message: str) -> None:
        self.warned = True
        self.store.set_status(self.run_id, "running", message)

    def on_note(self, trainer, message: str) -> None:
        if not self.owns_status:
            return
        notes = self.store.get_run(self.run_id)["summary"].get("notes", [])
        self.store.update_summary(self.run_id, notes=[*notes, message], unprunable=trainer.unprunable)

    def on_end(self, trainer, status: str, message: str) -> None:
        if self.owns_status:
            self.store.set_status(self.run_id, status, message)


class ProgressBar(Observer):
    """A tqdm bar on stderr with loss, accuracy and the share of near-zero γ."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.bar = None
        self.started = time.time()

    def on_start(self, trainer) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=trainer.total_steps, initial=trainer.step, file=self.stream, unit="step",
                        dynamic_ncols=True, leave=True)

    def on_step(self, trainer, info: StepInfo) -> None:
        if self.bar is not None:
            self.bar.update(info.step - self.bar.n)
            self.bar.set_postfix(epoch=f"{info.epoch:.2f}", loss=f"{info.loss:.3f}", acc=f"{info.accuracy:.3f}",
                                 refresh=False)

    def on_epoch_end(self, trainer, info: EpochInfo) -> None:
        if self.bar is not None:
            near_zero = info.sparsity.get("sparsity@0.01", 0.0)
            self.bar.write(file=self.stream, s=f"epoch {info.epoch}: val acc {info.val_accuracy:.4f}  train acc "
                           f"{info.train_accuracy:.4f}  |γ|<1e-2: {near_zero:.1%}  ({info.seconds:.1f} s)")

    def on_warning(self, trainer, message: str) -> None:
        if self.bar is not None:
            self.bar.write(file=self.stream, s=f"warning: {message}")

    def on_note(self, trainer, message: str) -> None:
        print(f"note: {message}", file=self.stream, flush=True)

    def on_end(self, trainer, status: str, message: str) -> None:
        if self.bar is not None:
            self.bar.close()
