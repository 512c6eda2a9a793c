"""Committing a prune, in named steps: select the channels, build the cut model, fine-tune it, measure it,
export model.pt and model.onnx, and report (report.json). It runs as a `prune` job (`slimcore.jobs`)."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from slimcore.pruning.export import export_onnx, save_pruned
from slimcore.pruning.finetune import FineTuneResult, finetune
from slimcore.pruning.latency import latency_report
from slimcore.pruning.loader import PRUNED_FORMAT
from slimcore.pruning.math.bias_map import BiasMapConv2d
from slimcore.pruning.math.plan import Selection, requested_threshold
from slimcore.pruning.measure import DEFINITIONS, measure
from slimcore.pruning.scoring import ranking_scores, selection_for
from slimcore.pruning.settings import PruneSettings
from slimcore.pruning.trained import CALIBRATION_SAMPLES, TrainedRun, load_trained
from slimcore.store.files import read_json, write_json
from slimcore.store.runs import RunStore
from slimcore.training.evaluate import evaluate
from slimcore.training.events import Observer, StepInfo
from slimcore.training.observers import StoreRecorder

Progress = Callable[[float, int, str], None]
STEPS_BEFORE_FINETUNE = 3  # select, evaluate the unpruned model, cut


def commit(store: RunStore, run_id: str, settings: PruneSettings, progress: Progress | None = None,
           should_stop: Callable[[], bool] | None = None, observers: Iterable[Observer] = ()) -> dict:
    """Prunes run `run_id` as a `prune` job in this process and returns its report (also in report.json);
    `observers` also hear the fine-tuning loop's events."""
    from slimcore import jobs

    prune_id = jobs.create(store, "prune", settings, parent=run_id)
    jobs.run_here(store, prune_id, echo=progress, should_stop=should_stop, observers=tuple(observers))
    return prune_report(store, prune_id)


def prune_report(store: RunStore, prune_id: str) -> dict | None:
    """The report.json of a prune run, or None when it wrote none (failed before exporting)."""
    art = store.artifact(prune_id, "report.json")
    return read_json(art["path"]) if art else None


@dataclass
class _Cut:
    """What the first steps produce: the selection, the unpruned and the cut model's figures, the cut model."""

    selection: Selection
    learned: dict | None
    base: dict
    point: dict
    before: dict
    model: object


class FineTuneProgress(Observer):
    """Turns the fine-tuning loop's events into the job's progress (steps 3 … 3 + epochs)."""

    def __init__(self, say: Progress, total: int, epochs: int) -> None:
        self.say, self.total, self.epochs = say, total, epochs

    def on_step(self, trainer, info: StepInfo) -> None:
        epoch = min(math.floor(info.epoch) + 1, self.epochs)
        self.say(STEPS_BEFORE_FINETUNE + info.progress * self.epochs, self.total,
                 f"fine-tuning epoch {epoch}/{self.epochs}: loss {info.loss:.3f}")

    def on_epoch_end(self, trainer, info) -> None:
        self.say(STEPS_BEFORE_FINETUNE + info.epoch, self.total,
                 f"fine-tuned epoch {info.epoch}/{self.epochs}: val accuracy {info.val_accuracy:.4f}")


def run_commit(store: RunStore, run_id: str, prune_id: str, settings: PruneSettings, say: Progress,
               should_stop: Callable[[], bool], observers: Iterable[Observer] = ()) -> tuple[str, str]:
    """The prune job's body: every step, recorded under run `prune_id`; returns (status, message)."""
    started = time.perf_counter()
    ft = settings.finetune
    total = STEPS_BEFORE_FINETUNE + ft.epochs + 3
    trained = load_trained(store, run_id)
    store.update_summary(prune_id, model=trained.config["model"], dataset=trained.config["dataset"])
    cut = select_and_cut(store, trained, settings, say, total)
    store.set_layers(prune_id, [{"name": n, "size": w} for n, w in cut.point["widths"].items()])
    tuned = fine_tune(store, prune_id, trained, cut, settings, say, total, should_stop, observers)
    return finish_commit(store, run_id, prune_id, trained, cut, settings, tuned, say, total, started)


def finish_commit(store: RunStore, run_id: str, prune_id: str, trained: TrainedRun, cut: _Cut,
                  settings: PruneSettings, tuned: FineTuneResult, say: Progress, total: int, started: float,
                  more: dict | None = None) -> tuple[str, str]:
    """Steps 5–7 on the fine-tuned model: measure, export, write report.json (with `more` in it) and the summary."""
    measured = measure_pruned(trained, cut, settings, say, total)
    files = export(store, prune_id, trained, cut, settings, say, total, measured["test_accuracy"])
    report = make_report(store, run_id, prune_id, trained, cut, settings, tuned, measured, files)
    report.update(more or {})
    report["seconds"] = round(time.perf_counter() - started, 2)
    write_json(files["report"], report)
    store.put_artifact(prune_id, "report.json", "report", files["report"], {})
    store.update_summary(prune_id, val_accuracy=measured["val_accuracy"], test_accuracy=measured["test_accuracy"],
                         flops=cut.point["flops"], flops_ratio=cut.point["flops_ratio"], params=cut.point["params"],
                         speedup_batch1=measured["latency"]["batch1"]["speedup"], out_dir=str(Path(files["report"]).parent))
    say(total, total, f"saved {Path(files['report']).parent}")
    done = f"{cut.point['flops_ratio']:.1%} of the FLOPs, test accuracy {measured['test_accuracy']:.4f}"
    if tuned.status == "stopped":
        return "stopped", f"{tuned.message} Exported: {done}."
    return "finished", done + (f" ({tuned.message})" if tuned.status == "diverged" else "")


def select_and_cut(store: RunStore, trained: TrainedRun, settings: PruneSettings, say: Progress, total: int) -> _Cut:
    """Steps 1–3: rank and select the channels, measure the unpruned model, build and measure the cut model."""
    say(0, total, "ranking channels")
    scores, learned = ranking_scores(store, trained, settings.ranking, say)
    selection = selection_for(trained, scores, settings.threshold, settings.flops_ratio, settings.min_channels,
                              settings.rules)
    say(1, total, "evaluating the unpruned model")
    base, _ = measure(trained, None)
    base["test_accuracy"] = evaluate(trained.model, trained.data.test)[1]
    say(2, total, f"cutting {selection.removed} channels")
    point, pruned = measure(trained, selection)
    before = {"val_accuracy": point["accuracy"], "test_accuracy": evaluate(pruned, trained.data.test)[1]}
    return _Cut(selection, learned, base, point, before, pruned)


def fine_tune(store: RunStore, prune_id: str, trained: TrainedRun, cut: _Cut, settings: PruneSettings,
              say: Progress, total: int, should_stop: Callable[[], bool],
              observers: Iterable[Observer] = ()) -> FineTuneResult:
    """Step 4: the training loop on the cut model; its metrics and γ snapshots go to the prune run."""
    ft = settings.finetune
    if ft.epochs:
        say(STEPS_BEFORE_FINETUNE, total, f"fine-tuning for {ft.epochs} epoch(s)")
    recorders = [StoreRecorder(store, prune_id, owns_status=False), FineTuneProgress(say, total, ft.epochs)]
    return finetune(cut.model, trained.data, trained.config, ft, [*recorders, *observers], should_stop,
                    teacher=trained.model)


def measure_pruned(trained: TrainedRun, cut: _Cut, settings: PruneSettings, say: Progress, total: int) -> dict:
    """Step 5: val and test accuracy of the final model, and its CPU latency against the unpruned one."""
    say(total - 3, total, "evaluating on the test split")
    val_accuracy = evaluate(cut.model, trained.data.val)[1]
    test_accuracy = evaluate(cut.model, trained.data.test)[1]
    say(total - 2, total, "measuring CPU latency")
    latency = latency_report(trained.model, cut.model, trained.input_shape, repeats=settings.latency_repeats)
    return {"val_accuracy": val_accuracy, "test_accuracy": test_accuracy, "latency": latency}


def export(store: RunStore, prune_id: str, trained: TrainedRun, cut: _Cut, settings: PruneSettings, say: Progress,
           total: int, test_accuracy: float) -> dict:
    """Step 6: model.pt (for `load_pruned`) and model.onnx, in --out or the prune run's folder."""
    say(total - 1, total, "exporting model.pt and model.onnx")
    cfg, data = trained.config, trained.data
    out = Path(settings.out_dir) if settings.out_dir is not None else store.run_dir(prune_id)
    meta = {"run_id": prune_id, "parent": trained.run_id, "dataset": cfg["dataset"], "data_root": cfg.get("data_root"),
            "seed": cfg.get("seed", 0), "ranking": settings.ranking, "threshold": cut.selection.threshold,
            "test_accuracy": test_accuracy}
    pt = save_pruned(cut.model, out / "model.pt", cfg["model"], data.num_classes, data.in_channels, data.image_size,
                     meta)
    onnx = export_onnx(cut.model, trained.input_shape, out / "model.onnx")
    store.put_artifact(prune_id, "model.pt", "pruned-model", str(pt), {"format": PRUNED_FORMAT})
    store.put_artifact(prune_id, "model.onnx", "onnx", onnx["path"], {"exporter": onnx["exporter"]})
    return {"model_pt": str(pt), "onnx": onnx["path"], "report": str(out / "report.json"), "onnx_info": onnx}


def make_report(store: RunStore, run_id: str, prune_id: str, trained: TrainedRun, cut: _Cut, settings: PruneSettings,
                tuned: FineTuneResult, measured: dict, files: dict) -> dict:
    """The report: what was cut, how it was fine-tuned, what it measures, where its files are."""
    base, point, ft = cut.base, cut.point, settings.finetune
    return {
        "run_id": prune_id, "parent": run_id, "ranking": settings.ranking, "threshold": cut.selection.threshold,
        "requested_threshold": requested_threshold(settings.threshold),
        "target_flops_ratio": settings.flops_ratio, "min_channels": settings.min_channels,
        "rules": settings.rules.to_dict(),
        "clamped": cut.selection.clamped, "input_shape": [1, *trained.input_shape],
        "dataset": trained.config["dataset"], "split": "test",
        "accuracy": measured["test_accuracy"], "val_accuracy": measured["val_accuracy"],
        "macs": point["macs"], "flops": point["flops"], "params": point["params"],
        "flops_ratio": point["flops_ratio"], "params_ratio": point["params"] / base["params"],
        "removed_channels": point["removed_channels"], "widths": point["widths"],
        "before_finetune": cut.before, "output_change": point.get("output_change"),
        "compensation": {"method": trained.compensation.name, "calibration_samples": CALIBRATION_SAMPLES,
                         "input_size_locked": any(isinstance(m, BiasMapConv2d) for m in cut.model.modules())},
        "finetune": {"epochs": ft.epochs, "lr": ft.lr, "schedule": ft.schedule, "status": tuned.status,
                     "message": tuned.message, "epochs_done": tuned.epochs, "keep_penalty": ft.keep_penalty,
                     "distill": ({"teacher": "unpruned", "temperature": ft.distill_temperature,
                                  "weight": ft.distill_weight} if ft.distill else None)},
        "base": {"macs": base["macs"], "flops": base["flops"], "params": base["params"],
                 "val_accuracy": base["accuracy"], "test_accuracy": base["test_accuracy"], "widths": base["widths"]},
        "latency": measured["latency"], "onnx": files["onnx_info"], "definitions": DEFINITIONS,
        "legr_search_id": (cut.learned or {}).get("search_id"), "settings": settings.to_dict(),
        "files": {"model_pt": files["model_pt"], "onnx": files["onnx"], "report": files["report"]},
    }
