"""What the training loop announces (`slimcore.training.events`): every hook is an Observer method with a no-op
default, and a run announces them in the documented order with the figures the loop computed."""
from __future__ import annotations

import inspect

from slimcore.training import EpochInfo, Observer, Snapshot, StepInfo, Trainer

from conftest import event_recorder


def test_a_run_announces_start_snapshots_steps_epochs_checkpoints_and_end_in_order(tiny_config, tmp_path):
    record = event_recorder()
    trainer = Trainer(tiny_config.replace(epochs=2, snapshot_every=8), observers=[record],
                      checkpoint_path=tmp_path / "last.pt")
    assert trainer.fit() == ("finished", "")
    n = trainer.steps_per_epoch  # 20 for the digits at batch 64: reports at steps 8, 16, 20 of each epoch
    epoch = ["on_step", "on_snapshot", "on_step", "on_snapshot", "on_step", "on_snapshot", "on_epoch_end"]
    assert n == 20
    assert record.events == (["on_start", "on_snapshot"] + epoch + ["on_checkpoint"] + epoch
                             + ["on_checkpoint", "on_end"])


def test_every_hook_is_a_no_op_by_default_and_takes_the_trainer_first():
    hooks = [name for name in vars(Observer) if name.startswith("on_")]
    assert hooks == ["on_start", "on_step", "on_snapshot", "on_epoch_end", "on_checkpoint", "on_warning", "on_note", "on_end"]
    base = Observer()
    for name in hooks:
        params = list(inspect.signature(getattr(Observer, name)).parameters)
        assert params[:2] == ["self", "trainer"], name
        assert getattr(base, name)(None, *([None] * (len(params) - 2))) is None


def test_the_events_carry_what_the_loop_measured(tiny_config):
    class Keep(Observer):
        def __init__(self):
            self.steps, self.snaps, self.epochs = [], [], []

        def on_step(self, trainer, info: StepInfo):
            self.steps.append(info)

        def on_snapshot(self, trainer, snap: Snapshot):
            self.snaps.append(snap)

        def on_epoch_end(self, trainer, info: EpochInfo):
            self.epochs.append(info)

    keep = Keep()
    trainer = Trainer(tiny_config.replace(epochs=1, snapshot_every=10), observers=[keep])
    trainer.fit()
    assert [s.step for s in keep.steps] == [10, 20] and keep.steps[-1].progress == 1.0
    assert all(0 <= s.accuracy <= 1 and s.loss > 0 for s in keep.steps)
    assert [(s.step, s.at_epoch_end) for s in keep.snaps] == [(0, False), (10, False), (20, True)]
    assert keep.snaps[-1].gamma.size == sum(layer["size"] for layer in trainer.layers) and keep.snaps[-1].epoch == 1.0
    [info] = keep.epochs
    assert (info.epoch, info.step) == (1, 20) and set(info.sparsity) == {"sparsity@0.001", "sparsity@0.01",
                                                                          "sparsity@0.1", "sparsity@0"}
