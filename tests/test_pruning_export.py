"""model.pt round-trips through `slimcore.load_pruned`; model.onnx run by onnxruntime gives the same outputs."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import slimcore
from slimcore.errors import CheckpointError
from slimcore.models import create_model
from slimcore.pruning.export import export_onnx, save_pruned
from slimcore.pruning.loader import read_pruned
from slimcore.pruning.math.plan import select
from slimcore.pruning.math.rankings import bn_scores
from slimcore.analysis.structure import analyse, pruned_model


def pruned(name: str, shape=(1, 8, 8), quantile: float = 0.5) -> nn.Module:
    torch.manual_seed(1)
    model = create_model(name, 10, shape[0], shape[1])
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.num_features))
                m.bias.copy_(torch.randn(m.num_features))
    model.eval()
    structure = analyse(model, shape)
    scores = bn_scores(model, structure.groups)
    return pruned_model(model, structure, select(scores, float(np.quantile(np.concatenate(scores), quantile))).plan)


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
