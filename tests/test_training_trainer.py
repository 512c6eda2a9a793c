"""The training loop (`slimcore.training.trainer`): γ of every BN recorded over time, a stop and resume that equal an
uninterrupted run, divergence with advice, checkpoints of another architecture refused, and torch.compile."""
import numpy as np
import pytest
import torch

from slimcore.config import TrainConfig
from slimcore.jobs import create_run, run_training
from slimcore.store import RunStore, load_checkpoint
from slimcore.training import Observer, Trainer

from conftest import event_recorder


class StopAfter(Observer):
    def __init__(self, steps):
        self.steps = steps
        self.flag = False

    def on_step(self, trainer, info):
        self.flag = info.step >= self.steps


def test_store_holds_gamma_of_every_bn_layer_over_time(tiny_config, tmp_path):
    store = RunStore(tmp_path)
    run_id = create_run(store, tiny_config)
    status, _ = run_training(store, run_id)
    assert status == "finished"
    run = store.get_run(run_id)
    sizes = [layer["size"] for layer in run["layers"]]
    trainer = Trainer(tiny_config)
    assert sizes == [bn.num_features for bn in trainer.bns]
    snaps = store.snapshots(run_id)
    assert len(snaps) >= 4 and all(s["gamma"].size == sum(sizes) for s in snaps)
    assert [s["step"] for s in snaps] == sorted(s["step"] for s in snaps)
    assert sum(s["at_epoch_end"] for s in snaps) == tiny_config.epochs
    assert not np.array_equal(snaps[0]["gamma"], snaps[-1]["gamma"])  # γ really moved
    metrics = store.metrics(run_id)
    for name in ("train_loss", "lr", "val_accuracy", "sparsity@0.01", "epoch_train_accuracy"):
        assert name in metrics, name
    assert len(metrics["val_accuracy"]["value"]) == tiny_config.epochs
    assert store.latest_checkpoint(run_id) is not None


def test_stop_then_resume_equals_uninterrupted_run(tiny_config, tmp_path):
    cfg = tiny_config.replace(epochs=2, snapshot_every=3)
    straight = Trainer(cfg)
    assert straight.fit()[0] == "finished"

    stopper = StopAfter(steps=9)  # mid-epoch (digits: 20 steps per epoch at batch 64)
    first = Trainer(cfg, observers=[stopper], stop_requested=lambda: stopper.flag,
                    checkpoint_path=tmp_path / "last.pt")
    status, _ = first.fit()
    assert status == "stopped" and 0 < first.batch_in_epoch < first.steps_per_epoch
    second = Trainer(cfg, checkpoint_path=tmp_path / "last.pt")
    second.load_state_dict(load_checkpoint(tmp_path / "last.pt"))
    assert second.fit()[0] == "finished"
    for (name, a), b in zip(straight.model.state_dict().items(), second.model.state_dict().values()):
        assert torch.equal(a, b), name


def test_divergence_stops_with_advice(tiny_config, tmp_path):
    store = RunStore(tmp_path)
    run_id = create_run(store, tiny_config.replace(lr=10.0, weight_decay=1.0, schedule="constant"))
    status, message = run_training(store, run_id)
    assert status == "diverged" and "--lr" in message
    assert store.get_run(run_id)["status"] == "diverged"


def test_checkpoint_from_another_architecture_is_refused(tiny_config, tmp_path):
    from slimcore.errors import CheckpointError

    Trainer(tiny_config, checkpoint_path=tmp_path / "a.pt").save_checkpoint()
    other = Trainer(tiny_config.replace(model="vgg11"))
    with pytest.raises(CheckpointError, match="another architecture"):
        other.load_state_dict(load_checkpoint(tmp_path / "a.pt"))


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_compiled_training_learns_and_saves_plain_weights(tmp_path):
    """torch.compile wraps the forward pass only: the checkpoint holds the plain model's state dict."""
    from slimcore.training.trainer import Trainer

    cfg = TrainConfig(dataset="digits", epochs=2, compile=True, penalty="l1", lam=1e-4,
                      penalty_params={"mode": "subgradient"})
    trainer = Trainer(cfg, checkpoint_path=tmp_path / "last.pt")
    status, _ = trainer.fit()
    assert status == "finished"
    state = torch.load(tmp_path / "last.pt", weights_only=True)["model"]
    assert not any("_orig_mod" in k for k in state)
    from slimcore.training.evaluate import evaluate

    assert evaluate(trainer.model, trainer.data.val)[1] > 0.7  # the plain run reaches ~0.9


def test_max_steps_takes_exactly_that_many_steps_and_announces_nothing(tiny_config):
    record = event_recorder()
    trainer = Trainer(tiny_config, observers=[record])
    assert trainer.fit(max_steps=25) == ("finished", "")
    assert (trainer.step, trainer.epoch, trainer.batch_in_epoch) == (25, 1, 25 - trainer.steps_per_epoch)
    assert record.events == [] and not trainer.model.training
