"""Fine-tuning a cut model with the training loop (`slimcore.pruning.finetune`): a stop goes back to exactly the
weights of the last whole epoch, the parent's optimizer settings are kept, and LeGR's short `train_steps` leaves the
caller's random state as it was."""
from __future__ import annotations

import pytest
import torch

from slimcore.config import TrainConfig
from slimcore.data import load_dataset
from slimcore.models import create_model
from slimcore.pruning.finetune import finetune, finetune_config, train_steps
from slimcore.pruning.settings import FineTuneSettings
from slimcore.training.events import Observer

PARENT = TrainConfig(dataset="digits", penalty="l1", lam=1e-3, momentum=0.8, weight_decay=5e-4, batch_size=128,
                     seed=4, snapshot_every=7).to_dict()


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=4)


def fresh() -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model("slimnet", 10, 1, 8)


def state(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


class StopIn(Observer):
    """Keeps the weights at the end of every epoch; asks for a stop a few steps into epoch `epoch` (0-based)."""

    def __init__(self, epoch: int) -> None:
        self.epoch, self.stop, self.kept = epoch, False, {}

    def on_epoch_end(self, trainer, info) -> None:
        self.kept[info.epoch] = state(trainer.model)

    def on_step(self, trainer, info) -> None:
        self.stop = trainer.epoch == self.epoch and trainer.batch_in_epoch >= 3


def test_a_stop_keeps_exactly_the_weights_of_the_last_whole_epoch(digits):
    model, watch = fresh(), StopIn(epoch=1)
    result = finetune(model, digits, PARENT, FineTuneSettings(epochs=3, lr=0.05, device="cpu"), [watch],
                      stop_requested=lambda: watch.stop)
    assert (result.status, result.epochs) == ("stopped", 1)
    assert result.message == "fine-tuning stopped during epoch 2 of 3; the weights of epoch 1 are kept."
    assert list(watch.kept) == [1]  # epoch 2 never ended
    assert all(torch.equal(v, watch.kept[1][k]) for k, v in model.state_dict().items())
    assert not model.training and next(model.parameters()).device.type == "cpu"


def test_a_stop_in_the_first_epoch_keeps_the_cut_model_as_it_was(digits):
    model, watch = fresh(), StopIn(epoch=0)
    before = state(model)
    result = finetune(model, digits, PARENT, FineTuneSettings(epochs=2, device="cpu"), [watch],
                      stop_requested=lambda: watch.stop)
    assert (result.status, result.epochs) == ("stopped", 0) and "the cut model is kept as it was" in result.message
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_zero_epochs_skips_and_a_whole_fine_tune_reports_every_epoch(digits):
    model = fresh()
    before = state(model)
    assert finetune(model, digits, PARENT, FineTuneSettings(epochs=0)).status == "skipped"
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    result = finetune(model, digits, PARENT, FineTuneSettings(epochs=1, device="cpu"))
    assert (result.status, result.message, result.epochs) == ("finished", "", 1)
    assert not all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_the_fine_tune_config_is_the_parent_run_without_its_penalty():
    cfg = finetune_config(PARENT, epochs=3, lr=0.02, schedule="step", device="cpu")
    assert (cfg.penalty, cfg.lam, cfg.penalty_params) == ("none", 0.0, {})
    assert (cfg.model, cfg.dataset, cfg.momentum, cfg.weight_decay, cfg.batch_size, cfg.seed, cfg.snapshot_every) == \
        ("slimnet", "digits", 0.8, 5e-4, 128, 4, 7)
    assert (cfg.epochs, cfg.lr, cfg.schedule, cfg.device) == (3, 0.02, "step", "cpu")
    assert finetune_config(PARENT, 0, 0.1, "constant", "cpu", batch_size=16, seed=9).epochs == 1


def test_with_the_penalty_kept_the_fine_tune_config_has_the_parents_penalty():
    cfg = finetune_config(PARENT, epochs=2, lr=0.02, schedule="cosine", device="cpu", with_penalty=True)
    assert (cfg.penalty, cfg.lam, cfg.penalty_params) == ("l1", 1e-3, PARENT["penalty_params"])
    assert (cfg.epochs, cfg.lr, cfg.momentum) == (2, 0.02, 0.8)


def test_train_steps_takes_exactly_that_many_steps_and_leaves_the_random_state(digits):
    torch.manual_seed(123)
    rng = torch.get_rng_state()
    a, b = fresh(), fresh()
    torch.set_rng_state(rng)
    train_steps(a, digits, PARENT, steps=5, lr=0.05, batch_size=32)
    assert torch.equal(torch.get_rng_state(), rng)
    train_steps(b, digits, PARENT, steps=5, lr=0.05, batch_size=32)
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())  # a fixed batch order
    c = fresh()
    train_steps(c, digits, PARENT, steps=6, lr=0.05, batch_size=32)
    assert not all(torch.equal(v, c.state_dict()[k]) for k, v in a.state_dict().items())
    assert not a.training
    d = fresh()
    before = state(d)
    train_steps(d, digits, PARENT, steps=0, lr=0.05)
    assert all(torch.equal(v, before[k]) for k, v in d.state_dict().items())
