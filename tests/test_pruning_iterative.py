"""Iterative pruning to a FLOPs target (`slimcore.pruning.iterative`) on the session's digits run: K cuts with
fine-tuning between them, each intermediate model recorded (its file loads and measures what was recorded), the
FLOPs falling at every cut and ending at the target; the run's metrics one series; a stop between cuts exports
the model it reached."""
from __future__ import annotations

import json

import pytest
import torch

from slimcore.analysis.structure import analyse
from slimcore.penalties import bn_layers
from slimcore.pruning import FineTuneSettings, PruneSettings, commit, load_pruned
from slimcore.pruning.distill import DistillingTrainer
from slimcore.pruning.iterative import step_targets
from slimcore.pruning.trained import load_trained
from slimcore.training.evaluate import evaluate
from slimcore.training.events import Observer


def test_every_cut_removes_an_equal_share_and_the_last_lands_on_the_target():
    assert step_targets(0.4, 3) == pytest.approx([0.8, 0.6, 0.4])
    assert step_targets(0.5, 1) == [0.5]
    targets = step_targets(0.3, 7)
    assert targets[-1] == pytest.approx(0.3)
    assert [a - b for a, b in zip([1.0, *targets], targets)] == pytest.approx([0.1] * 7)


class Loops(Observer):
    """What each fine-tuning loop of the job was: its penalty, whether it distils, its epochs."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.loops, self.stop_after, self.stop = [], stop_after, False

    def on_start(self, trainer) -> None:
        self.loops.append((trainer.config.penalty, isinstance(trainer, DistillingTrainer), trainer.config.epochs))

    def on_end(self, trainer, status, message) -> None:
        self.stop = self.stop_after is not None and len(self.loops) >= self.stop_after


@pytest.fixture(scope="module")
def iterated(digits_run, tmp_path_factory):
    """A 3-step distilled prune of the digits run to 50 % of the FLOPs, the penalty kept on between the cuts."""
    store, run_id = digits_run
    out = tmp_path_factory.mktemp("iterated")
    loops = Loops()
    settings = PruneSettings(flops_ratio=0.5, steps=3, out_dir=str(out), latency_repeats=2,
                             finetune=FineTuneSettings(epochs=1, lr=0.02, distill=True, keep_penalty=True))
    return store, run_id, out, commit(store, run_id, settings, observers=[loops]), loops


def test_three_steps_record_three_models_of_falling_flops_that_measure_what_was_recorded(iterated):
    store, run_id, out, report, loops = iterated
    trained = load_trained(store, run_id)
    steps = report["steps"]
    assert [s["step"] for s in steps] == [1, 2, 3]
    flops = [s["flops"] for s in steps]
    assert trained.structure.macs(trained.structure.empty_plan()) * 2 > flops[0] > flops[1] > flops[2]
    assert steps[-1]["flops_ratio"] <= 0.5 and report["flops_ratio"] == steps[-1]["flops_ratio"]
    assert all(s["flops_ratio"] <= t + 1e-12 for s, t in zip(steps, [5 / 6, 2 / 3, 0.5]))
    for s in steps:
        model = load_pruned(out / f"step_{s['step']}" / "model.pt")
        assert evaluate(model, trained.data.test)[1] == s["test_accuracy"]
        assert evaluate(model, trained.data.val)[1] == s["val_accuracy"]
        assert 2 * analyse(model, trained.input_shape).macs(analyse(model, trained.input_shape).empty_plan()) \
            == s["flops"]
        assert s["gamma"] == {name: [float(v) for v in bn.weight.detach()] for name, bn in bn_layers(model)}
        assert store.artifact(report["run_id"], f"step_{s['step']}/model.pt")["path"] == s["model_pt"]
    final = load_pruned(out / "model.pt")
    assert evaluate(final, trained.data.test)[1] == report["accuracy"] == steps[-1]["test_accuracy"]
    assert json.loads((out / "report.json").read_text())["steps"] == steps


def test_the_fine_tunes_distil_keep_the_penalty_between_cuts_and_record_one_series(iterated):
    store, run_id, out, report, loops = iterated
    assert loops.loops == [("l1", True, 1), ("l1", True, 1), ("none", True, 1)]
    assert report["finetune"]["distill"] == {"teacher": "unpruned", "temperature": 4.0, "weight": 0.9}
    assert report["finetune_epochs_done"] == 3 and report["step_targets"] == pytest.approx([5 / 6, 2 / 3, 0.5])
    run = store.get_run(report["run_id"])
    assert run["status"] == "finished" and run["message"].startswith("3 steps: ")
    assert [s["step"] for s in run["summary"]["steps"]] == [1, 2, 3]
    assert all("gamma" not in s for s in run["summary"]["steps"])
    metrics = store.metrics(report["run_id"])
    assert metrics["val_accuracy"]["epoch"] == [1.0, 2.0, 3.0]
    losses = metrics["train_loss"]["step"]
    assert losses == sorted(set(losses))  # each cut's steps go on from the one before
    snaps = store.snapshots(report["run_id"])
    assert snaps and all(len(s["gamma"]) == sum(layer["size"] for layer in run["layers"]) for s in snaps)
    assert {layer["name"]: layer["size"] for layer in run["layers"]} == report["widths"]


def test_a_stop_between_cuts_exports_the_model_it_reached(digits_run, tmp_path):
    store, run_id = digits_run
    loops = Loops(stop_after=1)
    settings = PruneSettings(flops_ratio=0.5, steps=3, out_dir=str(tmp_path), latency_repeats=2,
                             finetune=FineTuneSettings(epochs=1))
    report = commit(store, run_id, settings, should_stop=lambda: loops.stop, observers=[loops])
    assert len(loops.loops) == 1 and [s["step"] for s in report["steps"]] == [1]
    run = store.get_run(report["run_id"])
    assert run["status"] == "stopped" and "ended after step 1 of 3" in run["message"]
    model = load_pruned(tmp_path / "model.pt")
    assert torch.equal(next(iter(model.state_dict().values())),
                       next(iter(load_pruned(tmp_path / "step_1" / "model.pt").state_dict().values())))
    assert report["flops_ratio"] == report["steps"][0]["flops_ratio"] > 0.5


def test_the_trade_off_plot_finds_the_iterative_commit_with_its_recovered_accuracy(iterated):
    from slimcore.pruning.results import fine_tuned_points

    store, run_id, out, report, loops = iterated
    point = next(p for p in fine_tuned_points(store, run_id, "bn") if p["prune_id"] == report["run_id"])
    assert (point["steps"], point["distill"], point["epochs"]) == (3, True, 3)
    assert point["accuracy_after"] == report["val_accuracy"] == report["steps"][-1]["val_accuracy"]
    assert point["accuracy_before"] == report["steps"][-1]["before_finetune"]["val_accuracy"]
