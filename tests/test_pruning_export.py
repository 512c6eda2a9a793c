"""Writing a pruned model (`slimcore.pruning.export`): model.pt round-trips through `slimcore.load_pruned`; model.onnx
run by onnxruntime gives the same outputs."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import slimcore
from slimcore.pruning.export import describe_layers, export_onnx, save_pruned
from slimcore.pruning.loader import PRUNED_FORMAT, PRUNED_VERSION, read_pruned
from slimcore.pruning.math.bias_map import BiasMapConv2d

from conftest import random_pruned as pruned


@pytest.mark.parametrize("name", ["slimnet", "resnet20", "tv_mobilenet_v2",
                                  pytest.param("densenet40", marks=pytest.mark.slow)])
def test_load_pruned_reproduces_outputs(name, tmp_path):
    model = pruned(name)
    path = save_pruned(model, tmp_path / "model.pt", name, 10, 1, 8, {"dataset": "digits"})
    loaded = slimcore.load_pruned(path)
    assert not loaded.training
    x = torch.randn(3, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    assert read_pruned(path).meta == {"dataset": "digits"}


def test_load_pruned_keeps_biases_added_by_absorption(tmp_path):
    model = pruned("densenet40", quantile=0.3)
    assert any(m.bias is not None for m in model.modules() if isinstance(m, nn.Conv2d))
    loaded = slimcore.load_pruned(save_pruned(model, tmp_path / "model.pt", "densenet40", 10, 1, 8))
    x = torch.randn(2, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))


@pytest.mark.parametrize("name", ["slimnet", pytest.param("resnet20", marks=pytest.mark.slow),
                                  pytest.param("tv_mobilenet_v2", marks=pytest.mark.slow)])
def test_onnx_export_matches_under_onnxruntime(name, tmp_path):
    import onnxruntime as ort

    model = pruned(name)
    info = export_onnx(model, (1, 8, 8), tmp_path / "model.onnx")
    assert info["exporter"] in ("dynamo", "torchscript")
    session = ort.InferenceSession(info["path"], providers=["CPUExecutionProvider"])
    for batch in (1, 5):  # the batch axis is dynamic
        x = torch.randn(batch, 1, 8, 8)
        with torch.no_grad():
            want = model(x).numpy()
        got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)


def test_the_file_records_every_layer_shape_and_plain_weights(tmp_path):
    model = pruned("slimnet")
    path = save_pruned(model, tmp_path / "sub" / "model.pt", "slimnet", 10, 1, 8, {"seed": 3})
    state = torch.load(path, weights_only=True)
    assert (state["format"], state["version"], state["meta"]) == (PRUNED_FORMAT, PRUNED_VERSION, {"seed": 3})
    assert {k: state["arch"][k] for k in ("model", "num_classes", "in_channels", "image_size")} == \
        {"model": "slimnet", "num_classes": 10, "in_channels": 1, "image_size": 8}
    layers = state["arch"]["modules"]
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            conv = {"in_channels": m.in_channels, "out_channels": m.out_channels, "groups": m.groups,
                    "bias": m.bias is not None}
            if isinstance(m, BiasMapConv2d):  # a per-position compensation: its map's size is recorded too
                assert layers[name] == {"type": "BiasMapConv2d", **conv, "map_size": list(m.bias_map.shape[-2:])}
            else:
                assert layers[name] == {"type": "Conv2d", **conv}
        elif isinstance(m, nn.BatchNorm2d):
            assert layers[name] == {"type": "BatchNorm2d", "num_features": m.num_features}
    assert layers == describe_layers(model) and set(layers) == {
        n for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.BatchNorm2d, nn.Linear))}
    assert state["state_dict"].keys() == model.state_dict().keys()
    assert [p.name for p in tmp_path.joinpath("sub").iterdir()] == ["model.pt"]  # no temp file left
