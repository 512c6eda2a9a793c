"""Committing a prune: cut the channels for real, save the result as a new `prune` run, optionally fine-tune,
measure, and export model.pt, model.onnx and report.json."""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Callable, Iterable

from slimcore.errors import ConfigError
from slimcore.pruning.export import export_onnx, save_pruned
from slimcore.pruning.finetune import FineTuner
from slimcore.pruning.latency import latency_report
from slimcore.pruning.loader import PRUNED_FORMAT
from slimcore.pruning.plan import check_min_channels, check_target, requested_threshold
from slimcore.pruning.preview import DEFINITIONS, measure, ranking_scores, selection_for
from slimcore.pruning.rankings import RANKINGS
from slimcore.pruning.storage import write_json
from slimcore.pruning.trained import load_trained
from slimcore.store.runs import RunStore
from slimcore.training.evaluate import evaluate
from slimcore.training.events import Observer
from slimcore.training.observers import StoreRecorder

Progress = Callable[[int, int, str], None]


class _EpochProgress(Observer):
    """Turns fine-tuning epochs into the commit's progress callback (stage 3 + epoch)."""

    def __init__(self, say: Progress, total: int) -> None:
        self.say, self.total = say, total

    def on_epoch_end(self, trainer, info) -> None:
        self.say(2 + info.epoch, self.total, f"fine-tuning epoch {info.epoch}/{trainer.epochs}: "
                                             f"val accuracy {info.val_accuracy:.4f}")


def _check_finetune(epochs: object, lr: object) -> tuple[int, float]:
    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 0 <= epochs <= 10_000:
        raise ConfigError(f"fine-tuning epochs must be an integer in 0..10000, got {epochs!r}.")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not (math.isfinite(lr) and 0 < lr <= 10):
        raise ConfigError(f"fine-tuning learning rate must be a number in (0, 10], got {lr!r}.")
    return epochs, float(lr)


def commit(store: RunStore, run_id: str, ranking: str = "bn", threshold: float | None = None,
           flops_ratio: float | None = None, finetune_epochs: int = 0, finetune_lr: float = 0.01,
           out_dir: str | Path | None = None, progress: Progress | None = None, min_channels: int = 1,
           observers: Iterable[Observer] = (), latency_repeats: int = 20) -> dict:
    """Prunes run `run_id` at a threshold or FLOPs ratio and returns the report (also written as report.json)."""
    RANKINGS.get(ranking)
    threshold, flops_ratio = check_target(threshold, flops_ratio)
    min_channels = check_min_channels(min_channels)
    finetune_epochs, finetune_lr = _check_finetune(finetune_epochs, finetune_lr)
    if out_dir is not None and not str(out_dir).strip():
        raise ConfigError("the output folder (--out) is empty; give a folder, or leave it out to write into the "
                          "prune run's own folder.")
    started = time.perf_counter()
    total = 6 + finetune_epochs
    say = progress or (lambda done, total, message: None)

    trained = load_trained(store, run_id)
    cfg, data, st = trained.config, trained.data, trained.structure
    say(0, total, "ranking channels")
    scores, learned = ranking_scores(store, trained, ranking, progress)
    selection = selection_for(trained, scores, threshold, flops_ratio, min_channels)
    say(1, total, "evaluating the unpruned model")
    base, _ = measure(trained, None)
    base["test_accuracy"] = evaluate(trained.model, data.test)[1]
    say(2, total, f"cutting {selection.removed} channels")
    point, pruned = measure(trained, selection)
    before = {"val_accuracy": point["accuracy"], "test_accuracy": evaluate(pruned, data.test)[1]}

    config = {"parent": run_id, "model": cfg["model"], "dataset": cfg["dataset"], "data_root": cfg.get("data_root"),
              "seed": cfg.get("seed", 0), "penalty": cfg.get("penalty"), "lam": cfg.get("lam"),
              "ranking": ranking, "threshold": selection.threshold, "flops_ratio": flops_ratio,
              "min_channels": min_channels, "finetune_epochs": finetune_epochs, "finetune_lr": finetune_lr}
    prune_id = store.create_run(config, kind="prune", parent=run_id, label=f"{cfg['model']}-{ranking}-pruned")
    try:
        store.set_status(prune_id, "running", "pruned; " + ("fine-tuning" if finetune_epochs else "exporting"))
        store.set_layers(prune_id, [{"name": n, "size": w} for n, w in point["widths"].items()])
        tuned = {"epochs": finetune_epochs, "lr": finetune_lr, "status": "skipped", "message": ""}
        if finetune_epochs:
            tuner = FineTuner(pruned, data, finetune_epochs, finetune_lr, cfg.get("batch_size", 64),
                              cfg.get("seed", 0), cfg.get("momentum", 0.9), cfg.get("weight_decay", 1e-4),
                              observers=[StoreRecorder(store, prune_id), _EpochProgress(say, total), *observers])
            status, message = tuner.fit()
            tuned.update(status=status, message=message)
            store.set_status(prune_id, "running", "exporting")
        say(3 + finetune_epochs, total, "evaluating on the test split")
        val_accuracy = evaluate(pruned, data.val)[1]
        test_accuracy = evaluate(pruned, data.test)[1]
        say(4 + finetune_epochs, total, "measuring CPU latency")
        latency = latency_report(trained.model, pruned, trained.input_shape, repeats=latency_repeats)

        say(5 + finetune_epochs, total, "exporting model.pt and model.onnx")
        out = Path(out_dir) if out_dir is not None else store.run_dir(prune_id)
        meta = {"run_id": prune_id, "parent": run_id, "dataset": cfg["dataset"], "data_root": cfg.get("data_root"),
                "seed": cfg.get("seed", 0), "ranking": ranking, "threshold": selection.threshold,
                "test_accuracy": test_accuracy}
        pt = save_pruned(pruned, out / "model.pt", cfg["model"], data.num_classes, data.in_channels,
                         data.image_size, meta)
        onnx = export_onnx(pruned, trained.input_shape, out / "model.onnx")
        report = {
            "run_id": prune_id, "parent": run_id, "ranking": ranking, "threshold": selection.threshold,
            "requested_threshold": requested_threshold(threshold),
            "target_flops_ratio": flops_ratio, "min_channels": min_channels, "clamped": selection.clamped,
            "input_shape": [1, *trained.input_shape], "dataset": cfg["dataset"], "split": "test",
            "accuracy": test_accuracy, "val_accuracy": val_accuracy,
            "macs": point["macs"], "flops": point["flops"], "params": point["params"],
            "flops_ratio": point["flops_ratio"], "params_ratio": point["params"] / base["params"],
            "removed_channels": point["removed_channels"], "widths": point["widths"],
            "before_finetune": before, "finetune": tuned,
            "base": {"macs": base["macs"], "flops": base["flops"], "params": base["params"],
                     "val_accuracy": base["accuracy"], "test_accuracy": base["test_accuracy"],
                     "widths": base["widths"]},
            "latency": latency, "onnx": onnx, "definitions": DEFINITIONS,
            "legr_search_id": (learned or {}).get("search_id"),
            "files": {"model_pt": str(pt), "onnx": onnx["path"], "report": str(out / "report.json")},
        }
        report["seconds"] = round(time.perf_counter() - started, 2)
        write_json(out / "report.json", report)
        store.put_artifact(prune_id, "model.pt", "pruned-model", str(pt), {"format": PRUNED_FORMAT})
        store.put_artifact(prune_id, "model.onnx", "onnx", onnx["path"], {"exporter": onnx["exporter"]})
        store.put_artifact(prune_id, "report.json", "report", str(out / "report.json"), {})
        store.update_summary(prune_id, val_accuracy=val_accuracy, test_accuracy=test_accuracy,
                             flops=point["flops"], flops_ratio=point["flops_ratio"], params=point["params"],
                             speedup_batch1=latency["batch1"]["speedup"], out_dir=str(out))
        store.set_status(prune_id, "finished", f"{point['flops_ratio']:.1%} of the FLOPs, test accuracy "
                                               f"{test_accuracy:.4f}")
        say(total, total, f"saved {out}")
        return report
    except BaseException as e:
        store.set_status(prune_id, "failed", f"{type(e).__name__}: {e}")
        raise
