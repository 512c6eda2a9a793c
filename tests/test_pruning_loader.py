"""Reading a pruned model file (`slimcore.pruning.loader`): the base zoo model resized to the recorded shapes, and a
refusal that names the problem for anything else."""
from __future__ import annotations

import pytest
import torch

import slimcore
from slimcore.errors import CheckpointError
from slimcore.models import create_model
from slimcore.pruning.export import save_pruned
from slimcore.pruning.loader import pruned_from_state, read_pruned, resize

from conftest import random_pruned as pruned


def test_non_pruned_files_are_refused(tmp_path):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a model")
    plain = tmp_path / "state.pt"
    torch.save({"model": create_model("slimnet", 10, 1, 8).state_dict()}, plain)
    for path in (garbage, plain, tmp_path / "missing.pt"):
        with pytest.raises(CheckpointError):
            slimcore.load_pruned(path)


def test_tampered_shapes_are_refused(tmp_path):
    path = save_pruned(pruned("slimnet"), tmp_path / "model.pt", "slimnet", 10, 1, 8)
    state = torch.load(path, weights_only=True)
    state["arch"]["modules"]["features.0"]["out_channels"] += 1
    torch.save(state, path)
    with pytest.raises(CheckpointError, match="do not match"):
        slimcore.load_pruned(path)
    state["arch"]["modules"]["no.such.layer"] = {"type": "Conv2d"}
    torch.save(state, path)
    with pytest.raises(CheckpointError, match="another architecture"):
        slimcore.load_pruned(path)


def test_resize_gives_each_named_layer_the_recorded_widths():
    model = create_model("slimnet", 10, 1, 8)
    resize(model, {"features.0": {"type": "Conv2d", "in_channels": 1, "out_channels": 5, "groups": 1, "bias": True},
                   "features.1": {"type": "BatchNorm2d", "num_features": 5},
                   "classifier.2": {"type": "Linear", "in_features": 7, "out_features": 3, "bias": False}})
    conv, bn, fc = model.features[0], model.features[1], model.classifier[2]
    assert conv.weight.shape == (5, 1, 3, 3) and conv.bias.shape == (5,) and conv.out_channels == 5
    assert bn.weight.shape == bn.running_mean.shape == (5,) and bn.num_features == 5
    assert fc.weight.shape == (3, 7) and fc.bias is None and (fc.in_features, fc.out_features) == (7, 3)


@pytest.mark.parametrize("modules, message", [
    ({"features.0": {"type": "Conv2d", "in_channels": 1, "out_channels": 0, "groups": 1}},
     "features.0.out_channels must be a positive integer, got 0"),
    ({"features.0": {"type": "Conv2d", "in_channels": 3, "out_channels": 4, "groups": 2}},
     "layer 'features.0' has channels not divisible by its groups"),
    ({"features.0": {"type": "BatchNorm2d", "num_features": 4}}, "layer 'features.0' .BatchNorm2d. does not exist"),
    ({"no.such.layer": {"type": "Conv2d"}}, "layer 'no.such.layer' .Conv2d. does not exist in the base model"),
    ({"features.2": {"type": "ReLU"}}, "layer 'features.2' is a ReLU, which is never resized"),
])
def test_a_record_that_does_not_fit_the_base_model_is_refused(modules, message):
    with pytest.raises(CheckpointError, match=message):
        resize(create_model("slimnet", 10, 1, 8), modules)


def test_what_is_not_a_current_pruned_file_says_what_it_is(tmp_path):
    good = torch.load(save_pruned(pruned("slimnet"), tmp_path / "m.pt", "slimnet", 10, 1, 8), weights_only=True)
    with pytest.raises(CheckpointError, match="^no model file given"):
        read_pruned("  ")
    with pytest.raises(CheckpointError, match="upload.pt is not a pruned slimcore model .* training checkpoints"):
        pruned_from_state({**good, "format": "slimcore-train-checkpoint"}, "upload.pt")
    with pytest.raises(CheckpointError, match="format version 2; this slimcore reads version 1"):
        pruned_from_state({**good, "version": 2}, "m.pt")
    with pytest.raises(CheckpointError, match="names a model this slimcore cannot build: unknown model 'resnet9'"):
        pruned_from_state({**good, "arch": {**good["arch"], "model": "resnet9"}}, "m.pt")
    loaded = pruned_from_state({**good, "meta": None}, "m.pt")
    assert loaded.meta == {} and not loaded.model.training and loaded.arch == good["arch"]
