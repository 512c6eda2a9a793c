"""A trained run as pruning sees it (`slimcore.pruning.trained`): its checkpoint's weights in its model, its data and
structure, read once per checkpoint; what cannot be pruned is refused with the reason before any work."""
from __future__ import annotations

import pytest
import torch

from slimcore.errors import CheckpointError, StoreError
from slimcore.pruning.settings import PruneSettings
from slimcore.pruning.trained import check_prunable, load_trained
from slimcore.store import RunStore
from slimcore.store.checkpoints import load_checkpoint


def test_the_model_holds_the_checkpoint_weights_in_eval_mode_and_is_read_once(digits_run):
    store, run_id = digits_run
    trained = load_trained(store, run_id)
    ckpt = store.latest_checkpoint(run_id)
    state = load_checkpoint(ckpt["path"])["model"]
    assert not trained.model.training and trained.model.state_dict().keys() == state.keys()
    assert all(torch.equal(v, state[k]) for k, v in trained.model.state_dict().items())
    assert trained.input_shape == (1, 8, 8) and trained.config["dataset"] == "digits"
    assert trained.cache_key == {"checkpoint": ckpt["path"], "step": ckpt["step"]}
    assert load_trained(store, run_id) is trained
    check_prunable(store, run_id)  # a finished training run with its own checkpoint: no error


def test_runs_that_cannot_be_pruned_say_why(digits_run, tmp_path):
    trained_store, run_id = digits_run
    config = trained_store.get_run(run_id)["config"]
    store = RunStore(tmp_path / "runs")  # its own store: the shared one keeps only its runs and their jobs
    parent = store.create_run(config, label="parent")
    prune_id = store.create_run(PruneSettings(threshold=0.1).to_dict(), kind="prune", parent=parent)
    with pytest.raises(StoreError, match=f"run {prune_id} is a prune run; rank, preview and prune work on training "
                                         f"runs .its parent is {parent}."):
        load_trained(store, prune_id)
    with pytest.raises(StoreError, match=f"run {parent} has no checkpoint yet .status starting.; wait for its first"):
        check_prunable(store, parent)
    gone = store.create_run(config, label="checkpoint-gone")
    store.add_checkpoint(gone, 5, 1.0, tmp_path / "deleted.pt")
    with pytest.raises(CheckpointError, match=f"run {gone}'s checkpoint .*deleted.pt cannot be read"):
        load_trained(store, gone)
    other = store.create_run({**config, "model": "resnet20"}, label="other-model")
    store.add_checkpoint(other, 5, 1.0, trained_store.latest_checkpoint(run_id)["path"])  # read, never copied
    with pytest.raises(CheckpointError, match="is a checkpoint of model 'slimnet', but the run uses 'resnet20'"):
        check_prunable(store, other)
