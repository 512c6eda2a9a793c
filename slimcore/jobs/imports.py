"""The `import` job: records a finished run from weights trained elsewhere, ready to rank, preview and prune.

Its settings are a TrainConfig with zero epochs and the starting weights (`init_from`, or `pretrained`): the run
is built exactly as a training run's step 0 would be, evaluated on val and test, its γ recorded as its one
snapshot and its weights written as the run's checkpoint. Everything that works on a training run then works on it.
"""
from __future__ import annotations

from slimcore.config import TrainConfig
from slimcore.errors import ConfigError, StoreError, Stopped
from slimcore.jobs.kinds import JOBS, Job, JobKind
from slimcore.store.runs import RunStore

STAGES = ("loading the data and the weights", "evaluating on val", "evaluating on test", "writing the checkpoint")


def import_config(model: str, dataset: str, weights: str | None = None, pretrained: bool = False,
                  data_root: str | None = None, seed: int = 0, device: str = "auto", label: str = "") -> TrainConfig:
    """The settings of an import: no training (0 epochs, no penalty), the given starting weights."""
    return TrainConfig(model=model, dataset=dataset, data_root=data_root, penalty="none", lam=0.0, epochs=0,
                       seed=seed, device=device, label=label, init_from=weights, pretrained=pretrained)


@JOBS.register("import")
class ImportJob(JobKind):
    """Import trained weights: evaluate on val and test, record γ and a checkpoint, as a finished run."""

    name = "import"
    settings_type = TrainConfig
    needs_parent = False
    holds_model = True

    def label(self, settings: TrainConfig, parent: dict | None) -> str:
        from slimcore.models.external import short_name

        return settings.label or f"{short_name(settings.model)}-imported"

    def check(self, store: RunStore, parent: str | None, settings: TrainConfig) -> None:
        from slimcore.jobs.train import check_startable

        if not (settings.init_from or settings.pretrained):
            raise ConfigError("an import needs weights: a file (slimcore import FILE) or --pretrained.")
        if settings.epochs != 0 or settings.penalty != "none":
            raise ConfigError("an import trains nothing: its settings have 0 epochs and no penalty (use "
                              "`slimcore train --init-from FILE` to train from the weights).")
        check_startable(settings)  # data, model and a weights file that fits: refused before a run is recorded

    def execute(self, job: Job) -> tuple[str, str]:
        from slimcore.training.evaluate import evaluate
        from slimcore.training.observers import StoreRecorder
        from slimcore.training.snapshots import sparsity_figures
        from slimcore.training.trainer import Trainer

        store, run_id, config = job.store, job.run_id, job.settings

        def stage(i: int) -> None:
            if job.should_stop():
                raise Stopped("stopped before the weights were recorded; nothing was kept.")
            job.progress(i, len(STAGES), STAGES[i])

        stage(0)
        trainer = Trainer(config, observers=[StoreRecorder(store, run_id, owns_status=False)],
                          checkpoint_path=store.run_dir(run_id) / "last.pt")
        store.set_layers(run_id, trainer.layers)
        stage(1)
        val_loss, val_acc = evaluate(trainer.model, trainer.data.val, trainer.device)
        stage(2)
        test_loss, test_acc = evaluate(trainer.model, trainer.data.test, trainer.device)
        stage(3)
        snap = trainer.snapshot(at_epoch_end=True)
        sparsity = sparsity_figures(snap.gamma)
        store.add_snapshot(run_id, 0, 0.0, True, snap.gamma, snap.beta)
        store.log_metrics(run_id, 0, 0.0, {"val_loss": val_loss, "val_accuracy": val_acc, "test_loss": test_loss,
                                           "test_accuracy": test_acc, **sparsity})
        trainer.save_checkpoint()
        if trainer.checkpoint_error:
            raise StoreError(trainer.checkpoint_error)
        gamma_max = float(abs(snap.gamma).max()) if snap.gamma.size else 0.0
        store.update_summary(run_id, epoch=0, val_accuracy=val_acc, val_loss=val_loss, test_accuracy=test_acc,
                             test_loss=test_loss, gamma_max=gamma_max, num_classes=trainer.data.num_classes,
                             notes=trainer.notes, unprunable=trainer.unprunable,
                             source=config.init_from or "published weights", **sparsity)
        job.progress(len(STAGES), len(STAGES), "imported")
        return "finished", f"imported: val accuracy {val_acc:.4f}, test accuracy {test_acc:.4f}"

