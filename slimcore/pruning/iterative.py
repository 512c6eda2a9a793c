"""Iterative pruning to a FLOPs target: K cuts, each followed by fine-tuning, each ranking the channels on the weights
the previous fine-tune left (Torch-Pruning's and NNI's iterative pruners; network slimming's multi-pass scheme, Liu
et al. 2017, §3). The body of a prune job whose settings have `steps` > 1.

Cut k of K keeps 1 − (1 − R)·k/K of the unpruned model's FLOPs: every cut removes the same share of the FLOPs
there are to remove, and cut K lands on R as a one-shot commit to R would. After each cut the model is no longer the
zoo model it came from, so its structure (channel groups, shapes, compensation) is analysed again before the next.
Every intermediate model is written to step_k/model.pt and recorded with its accuracy, FLOPs and BN γ; the last is
exported as a one-shot commit's (model.pt, model.onnx, report.json, whose `steps` lists the path).
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Callable, Iterable

from slimcore.analysis.structure import analyse
from slimcore.penalties import bn_layers
from slimcore.pruning.committing import STEPS_BEFORE_FINETUNE, FineTuneProgress, Progress, finish_commit, \
    select_and_cut
from slimcore.pruning.export import save_pruned
from slimcore.pruning.finetune import finetune
from slimcore.pruning.loader import PRUNED_FORMAT
from slimcore.pruning.settings import PruneSettings
from slimcore.pruning.trained import TrainedRun, load_trained
from slimcore.store.runs import RunStore
from slimcore.training.evaluate import evaluate
from slimcore.training.events import Observer
from slimcore.training.observers import StoreRecorder


def step_targets(flops_ratio: float, steps: int) -> list[float]:
    """The FLOPs share (of the unpruned model's) each of `steps` cuts keeps: 1 − (1 − R)·k/K, k = 1 … K."""
    return [1.0 - (1.0 - flops_ratio) * k / steps for k in range(1, steps + 1)]


class StepRecorder(StoreRecorder):
    """Records one cut's fine-tuning into the prune run after the cuts before it: its steps and epochs go on from
    theirs, so the run's metrics are one series. Only the last cut's γ snapshots go to the store, since the run's
    layers are that model's (each cut's γ is kept in its step record instead)."""

    def __init__(self, store: RunStore, run_id: str, steps_before: int, epochs_before: int, snapshots: bool) -> None:
        super().__init__(store, run_id, owns_status=False)
        self.steps_before, self.epochs_before, self.snapshots = steps_before, epochs_before, snapshots
        self.last_step = steps_before

    def on_start(self, trainer) -> None:
        if self.steps_before == 0:
            super().on_start(trainer)

    def on_step(self, trainer, info) -> None:
        self.last_step = info.step + self.steps_before
        super().on_step(trainer, dataclasses.replace(info, step=self.last_step, epoch=info.epoch + self.epochs_before))

    def on_snapshot(self, trainer, snap) -> None:
        if self.snapshots:
            super().on_snapshot(trainer, dataclasses.replace(snap, step=snap.step + self.steps_before,
                                                             epoch=snap.epoch + self.epochs_before))

    def on_epoch_end(self, trainer, info) -> None:
        super().on_epoch_end(trainer, dataclasses.replace(info, step=info.step + self.steps_before,
                                                          epoch=info.epoch + self.epochs_before))


def gamma_of(model) -> dict[str, list[float]]:
    """Every BN layer's γ, by layer name: a model's γ snapshot as JSON."""
    return {name: [float(v) for v in bn.weight.detach().cpu()] for name, bn in bn_layers(model)}


def as_run(trained: TrainedRun, model) -> TrainedRun:
    """The run as the next cut sees it: `model` (a cut, fine-tuned model) analysed afresh, with the run's data,
    config and checkpoint; its compensation is calibrated on `model` when first used."""
    return dataclasses.replace(trained, model=model, structure=analyse(model, trained.input_shape), penalty_state=None)


def run_iterative(store: RunStore, run_id: str, prune_id: str, settings: PruneSettings, say: Progress,
                  should_stop: Callable[[], bool], observers: Iterable[Observer] = ()) -> tuple[str, str]:
    """The prune job's body for `settings.steps` > 1, recorded under run `prune_id`; returns (status, message)."""
    started = time.perf_counter()
    ft, count = settings.finetune, settings.steps
    per_step = STEPS_BEFORE_FINETUNE + ft.epochs + 1  # select, evaluate, cut, the epochs, save the step
    total = count * per_step + 3
    trained = load_trained(store, run_id)
    store.update_summary(prune_id, model=trained.config["model"], dataset=trained.config["dataset"])
    base_macs = trained.structure.macs(trained.structure.empty_plan())
    out = Path(settings.out_dir) if settings.out_dir is not None else store.run_dir(prune_id)
    current, records, base, steps_before, epochs_done = trained, [], None, 0, 0
    for k, target in enumerate(step_targets(settings.flops_ratio, count), start=1):
        offset = (k - 1) * per_step

        def say_k(done: float, _total: int, message: str, k=k, offset=offset) -> None:
            if k > 1:  # what the cut starts from is the model of the step before
                message = message.replace("the unpruned model", f"the model of step {k - 1}")
            say(offset + done, total, f"step {k}/{count}: {message}")

        keep = target * base_macs / current.structure.macs(current.structure.empty_plan())
        cut = select_and_cut(store, current, settings.replace(flops_ratio=min(keep, 1.0)), say_k, per_step)
        base = base or cut.base
        cut.point.update(flops_ratio=cut.point["macs"] / base_macs,
                         removed_channels=sum(base["widths"].values()) - sum(cut.point["widths"].values()))
        store.set_layers(prune_id, [{"name": n, "size": w} for n, w in cut.point["widths"].items()])
        say_k(STEPS_BEFORE_FINETUNE, per_step, f"fine-tuning for {ft.epochs} epoch(s)")
        recorder = StepRecorder(store, prune_id, steps_before, epochs_done, snapshots=k == count)
        tuned = finetune(cut.model, trained.data, trained.config, ft,
                         [recorder, FineTuneProgress(say_k, per_step, ft.epochs), *observers], should_stop,
                         teacher=trained.model, with_penalty=ft.keep_penalty and k < count)
        steps_before, epochs_done = recorder.last_step, epochs_done + tuned.epochs
        say_k(per_step - 1, per_step, "saving the step's model")
        records.append(record_step(store, prune_id, trained, cut, out, k, target, tuned))
        store.update_summary(prune_id, steps=[{key: v for key, v in r.items() if key != "gamma"} for r in records])
        if tuned.status in ("stopped", "diverged") or (k < count and should_stop()):
            break
        current = as_run(trained, cut.model)
    cut.base = base
    more = {"steps": records, "step_targets": step_targets(settings.flops_ratio, count),
            "finetune_epochs_done": epochs_done}
    status, message = finish_commit(store, run_id, prune_id, trained, cut, settings, tuned, say, total, started,
                                    more)
    if len(records) == count:
        return status, f"{count} steps: {message}"
    # a stop (during a fine-tune or between cuts) is a stopped job; a diverged fine-tune ends it as one-shot does
    return ("finished" if tuned.status == "diverged" else "stopped",
            f"ended after step {len(records)} of {count}, whose model is exported: {message}")


def record_step(store: RunStore, prune_id: str, trained: TrainedRun, cut, out: Path, k: int, target: float,
                tuned) -> dict:
    """Writes step k's fine-tuned model to step_k/model.pt and returns its record: FLOPs, params, widths, accuracy
    before and after its fine-tuning (val and test), its BN γ and the file."""
    data, cfg = trained.data, trained.config
    val, test = evaluate(cut.model, data.val)[1], evaluate(cut.model, data.test)[1]
    meta = {"run_id": prune_id, "parent": trained.run_id, "dataset": cfg["dataset"], "data_root": cfg.get("data_root"),
            "seed": cfg.get("seed", 0), "step": k, "test_accuracy": test}
    path = save_pruned(cut.model, out / f"step_{k}" / "model.pt", cfg["model"], data.num_classes, data.in_channels,
                       data.image_size, meta)
    store.put_artifact(prune_id, f"step_{k}/model.pt", "pruned-model-step", str(path),
                       {"format": PRUNED_FORMAT, "step": k})
    point = cut.point
    return {"step": k, "target_flops_ratio": target, "flops_ratio": point["flops_ratio"], "macs": point["macs"],
            "flops": point["flops"], "params": point["params"], "removed_channels": point["removed_channels"],
            "threshold": cut.selection.threshold, "clamped": cut.selection.clamped, "widths": point["widths"],
            "output_change": point.get("output_change"), "before_finetune": cut.before,
            "val_accuracy": val, "test_accuracy": test, "finetune_status": tuned.status,
            "epochs_done": tuned.epochs, "model_pt": str(path), "gamma": gamma_of(cut.model)}
