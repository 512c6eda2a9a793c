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


def test_a_checkpoint_taken_mid_ista_run_is_read_with_the_gammas_the_network_uses(runs_dir):
    """ISTA with α = 0.5 trains on γ·α and W/α; a run stopped before its end checkpoints them so. Loading undoes
    the rescaling: γ doubles back, the function stays."""
    import torch

    from slimcore import jobs
    from slimcore.config import TrainConfig
    from slimcore.models import create_model
    from slimcore.store import RunStore
    from slimcore.store.checkpoints import load_checkpoint

    store = RunStore(runs_dir)
    config = TrainConfig(model="slimnet", dataset="digits", epochs=2, penalty="ista", lam=0.01,
                         penalty_params={"alpha": 0.5}, snapshot_every=5)
    run_id = jobs.create_run(store, config)
    status, _ = jobs.run_training(store, run_id, stop_flag={"requested": True})
    assert status == "stopped"
    state = load_checkpoint(store.latest_checkpoint(run_id)["path"])
    assert state["penalty"]["rescaled"]
    raw = create_model("slimnet", 10, 1, 8)
    raw.load_state_dict(state["model"])
    trained = load_trained(store, run_id)
    for bn in state["penalty"]["rescaled"]:
        assert torch.equal(trained.model.get_submodule(bn).weight, state["model"][f"{bn}.weight"] / 0.5)
    x = torch.stack([trained.data.val[i][0] for i in range(32)])
    with torch.no_grad():
        torch.testing.assert_close(trained.model(x), raw.eval()(x), rtol=1e-5, atol=1e-5)
