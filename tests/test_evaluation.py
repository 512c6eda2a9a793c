"""Accuracy of a model file (`slimcore.evaluation`): a pruned model.pt on its own data (or a data set of the same
inputs and classes), a run's training checkpoint, and an upload evaluated in memory to the same figures."""
from __future__ import annotations

import io
import json

import pytest
import torch

from slimcore.cli.main import main
from slimcore.errors import CheckpointError, ConfigError
from slimcore.evaluation import evaluate_pruned, evaluate_training_state, evaluate_upload, load_upload
from slimcore.pruning.export import save_pruned
from slimcore.pruning.loader import read_pruned
from slimcore.store.checkpoints import load_checkpoint
from slimcore.training.evaluate import evaluate

from conftest import random_pruned


@pytest.fixture(scope="module")
def model_pt(tmp_path_factory):
    """A pruned slimnet for the 8×8 digits (random weights: the figures need not be good, only the same)."""
    path = tmp_path_factory.mktemp("pruned") / "model.pt"
    return save_pruned(random_pruned("slimnet"), path, "slimnet", 10, 1, 8,
                       {"dataset": "digits", "seed": 0, "parent": "run-x", "ranking": "bn"})


def test_an_upload_of_a_pruned_model_gives_what_slimcore_evaluate_gives_on_the_file(model_pt, capsys):
    assert main(["evaluate", str(model_pt), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    upload = evaluate_upload(model_pt.read_bytes())
    assert (upload["accuracy"], upload["loss"], upload["samples"]) == (cli["accuracy"], cli["loss"], cli["samples"])
    assert (upload["dataset"], upload["split"], upload["model"]) == ("digits", "test", "slimnet")
    assert upload["kind"] == "pruned model (from run run-x, bn ranking)"


def test_evaluate_pruned_is_the_model_accuracy_on_that_split(model_pt):
    from slimcore.data import load_dataset

    pruned = read_pruned(model_pt)
    out = evaluate_pruned(pruned, split="val")
    assert (out["loss"], out["accuracy"]) == evaluate(pruned.model, load_dataset("digits", seed=0).val)
    assert out["samples"] == 270 and out["params"] == sum(p.numel() for p in pruned.model.parameters())


def test_a_data_set_of_other_inputs_or_no_recorded_data_set_is_one_line_config_error(model_pt):
    pruned = read_pruned(model_pt)
    with pytest.raises(ConfigError) as error:
        evaluate_pruned(pruned, dataset="mnist5k")
    assert str(error.value) == ("the model takes 1×8×8 inputs and predicts 10 classes; data set 'mnist5k' has 1×28×28 "
                                "inputs and 10 classes.")
    pruned.meta.pop("dataset")
    with pytest.raises(ConfigError, match="does not record its data set; give one with --dataset"):
        evaluate_pruned(pruned)


def test_a_training_checkpoint_is_evaluated_with_its_run_model_and_data(digits_run):
    store, run_id = digits_run
    from slimcore.pruning.trained import load_trained

    path = store.latest_checkpoint(run_id)["path"]
    state = load_checkpoint(path)
    trained = load_trained(store, run_id)
    out = evaluate_training_state(state, split="val")
    assert (out["loss"], out["accuracy"]) == evaluate(trained.model, trained.data.val)
    assert (out["kind"], out["model"], out["epoch"]) == ("training checkpoint", "slimnet", 2)
    with open(path, "rb") as f:
        assert evaluate_upload(f.read())["accuracy"] == evaluate(trained.model, trained.data.test)[1]
    with pytest.raises(CheckpointError, match="does not record its run's settings"):
        evaluate_training_state({**state, "config": None})
    with pytest.raises(CheckpointError, match="has no model weights"):
        evaluate_training_state({**state, "model": None})
    with pytest.raises(CheckpointError, match="the weights do not fit a 'slimnet'"):
        evaluate_training_state({**state, "model": {"features.0.weight": torch.zeros(1)}})


def test_an_upload_that_is_no_slimcore_dict_is_refused_without_running_code():
    buffer = io.BytesIO()
    torch.save([torch.zeros(2)], buffer)
    with pytest.raises(CheckpointError, match="expected a dictionary of tensors"):
        load_upload(buffer.getvalue())
    buffer = io.BytesIO()
    torch.save({"format": "something-else"}, buffer)
    with pytest.raises(CheckpointError, match="expected a pruned model.pt .from the Prune page. or a training"):
        evaluate_upload(buffer.getvalue())
    with pytest.raises(CheckpointError, match="^the upload is not a valid checkpoint: it is truncated or corrupted"):
        load_upload(b"\x00" * 64)
