"""Observers that record a run (`slimcore.training.observers`): the store recorder writes what the loop announced
(and, inside a longer job, leaves the run's status alone); the progress bar writes each epoch's line."""
from __future__ import annotations

import io
import os

from slimcore.store import RunStore
from slimcore.training import Trainer
from slimcore.training.observers import ProgressBar, StoreRecorder


def test_the_store_recorder_writes_status_metrics_snapshots_checkpoint_and_summary(tiny_config, tmp_path):
    store = RunStore(tmp_path / "runs")
    run_id = store.create_run(tiny_config.to_dict())
    trainer = Trainer(tiny_config.replace(epochs=1, snapshot_every=10), observers=[StoreRecorder(store, run_id)],
                      checkpoint_path=store.run_dir(run_id) / "last.pt")
    trainer.fit()
    run = store.get_run(run_id)
    assert (run["status"], run["progress"], run["done"], run["total"]) == ("finished", 1.0, 20, 20)
    assert run["layers"] == trainer.layers and run["summary"]["epoch"] == 1
    assert [w["note"] for w in store.writers(run_id)] == [f"rank 0 of 1, {trainer.device}"]
    assert store.writers(run_id)[0]["pid"] == os.getpid()
    metrics = store.metrics(run_id)
    assert metrics["train_loss"]["step"] == [10, 20] and metrics["val_accuracy"]["step"] == [20]
    assert metrics["sparsity@0.01"]["step"] == [0, 10, 20]  # each mid-epoch snapshot, then the epoch's figure
    assert [(s["step"], s["at_epoch_end"]) for s in store.snapshots(run_id)] == [(0, False), (10, False), (20, True)]
    assert store.latest_checkpoint(run_id)["step"] == 20
    assert run["summary"]["val_accuracy"] == metrics["val_accuracy"]["value"][-1]


def test_inside_a_longer_job_it_records_rows_but_not_the_status(tiny_config, tmp_path):
    store = RunStore(tmp_path / "runs")
    run_id = store.create_run({})
    store.set_status(run_id, "running", "fine-tuning", pid=os.getpid())
    Trainer(tiny_config.replace(epochs=1), observers=[StoreRecorder(store, run_id, owns_status=False)]).fit()
    run = store.get_run(run_id)
    assert (run["status"], run["message"], run["progress"], run["summary"]) == ("running", "fine-tuning", 0, {})
    assert store.metrics(run_id)["val_accuracy"]["step"] == [20] and store.snapshots(run_id)


def test_a_warning_is_the_run_message_until_the_next_checkpoint(tiny_config, tmp_path):
    store = RunStore(tmp_path / "runs")
    run_id = store.create_run({})
    recorder = StoreRecorder(store, run_id)
    trainer = Trainer(tiny_config, checkpoint_path=tmp_path / "last.pt")
    recorder.on_warning(trainer, "could not write checkpoint: disk full")
    assert store.get_run(run_id)["message"] == "could not write checkpoint: disk full"
    recorder.on_checkpoint(trainer, tmp_path / "last.pt", 3, 0.5)
    assert store.get_run(run_id)["message"] == f"training on {trainer.device}"
    assert store.latest_checkpoint(run_id)["step"] == 3


def test_the_progress_bar_writes_a_line_per_epoch_and_warnings(tiny_config):
    stream = io.StringIO()
    bar = ProgressBar(stream)
    trainer = Trainer(tiny_config.replace(epochs=2), observers=[bar])
    trainer.fit()
    bar.on_warning(trainer, "disk nearly full")  # after the end the bar is closed: writing still works
    lines = stream.getvalue().replace("\r", "\n").splitlines()
    epochs = [line for line in lines if line.startswith("epoch ")]
    assert [line.split(":")[0] for line in epochs] == ["epoch 1", "epoch 2"]
    assert all("val acc" in line and "|γ|<1e-2" in line for line in epochs)
    assert lines[-1] == "warning: disk nearly full"
