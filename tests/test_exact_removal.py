"""Exact removal, the capability of issue 13, over the whole zoo: when the removed channels have γ = 0 exactly,
the committed model computes the trained network's function (to 1e-5, relative), in the engine, through the CLI's
`prune` and `load_pruned`, and through ONNX Runtime. Residual streams, concatenations, depthwise chains, zero
padding and the flatten into a classifier are all crossed by some group of some model here."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

import slimcore
from slimcore.analysis.calibration import mean_inputs
from slimcore.analysis.structure import analyse, pruned_model
from slimcore.cli.main import main
from slimcore.models import create_model, list_models
from slimcore.pruning.math.compensate import MeanInputCompensation
from slimcore.pruning.trained import load_trained
from slimcore.store import RunStore

SHAPE = (1, 8, 8)
FAST = ("slimnet", "resnet20", "densenet40", "mobilenetv2")
ZOO = [name if name in FAST else pytest.param(name, marks=pytest.mark.slow) for name in list_models()]


def relative_change(got: torch.Tensor, want: torch.Tensor) -> float:
    return float((got - want).norm() / want.norm())


def zoo_model_with_zero_gammas(name: str, seed: int, share: float = 0.25):
    """Zoo model `name` with random BN statistics, γ = 0 on a random `share` of every channel group (each keeps at
    least one channel), its structure and the plan that removes exactly those channels."""
    torch.manual_seed(seed)
    model = create_model(name, 10, *SHAPE[:2]).eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.num_features) + 0.2)
                m.bias.copy_(torch.randn(m.num_features))
                m.running_mean.copy_(0.3 * torch.randn(m.num_features))
                m.running_var.copy_(0.5 + torch.rand(m.num_features))
    structure = analyse(model, SHAPE)
    rng = np.random.default_rng(seed)
    plan = []
    modules = dict(model.named_modules())
    for group in structure.groups:
        k = min(group.width - 1, max(1, round(share * group.width)))
        chosen = np.sort(rng.choice(group.width, size=k, replace=False)) if k > 0 else np.array([], dtype=np.int64)
        plan.append(tuple(int(c) for c in chosen))
        with torch.no_grad():
            for it in group.items:
                if it.kind == "bn":
                    modules[it.module].weight[torch.as_tensor(it.idxs[np.isin(it.root_idxs, chosen)])] = 0
    return model, structure, tuple(plan)


@pytest.mark.parametrize("name", ZOO)
def test_removing_zero_gamma_channels_keeps_the_function(name):
    model, structure, plan = zoo_model_with_zero_gammas(name, seed=len(name))
    removed = sum(len(p) for p in plan)
    assert removed > 0
    x = torch.randn(16, *SHAPE)
    with torch.no_grad():
        want = model(x)
        exact = pruned_model(model, structure, plan)  # exact act(β), the default
        calibrated = pruned_model(model, structure, plan, MeanInputCompensation(
            mean_inputs(model, [torch.randn(32, *SHAPE)], structure.consumers)))  # what a trained run uses
        assert relative_change(exact(x), want) <= 1e-5
        assert relative_change(calibrated(x), want) <= 1e-5
    assert sum(p.numel() for p in exact.parameters()) < sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", [n if n == "resnet20" else pytest.param(n, marks=pytest.mark.slow) for n in FAST])
def test_the_exact_cut_runs_the_same_under_onnxruntime(name, tmp_path):
    import onnxruntime as ort

    from slimcore.pruning.export import export_onnx

    model, structure, plan = zoo_model_with_zero_gammas(name, seed=3)
    pruned = pruned_model(model, structure, plan)
    info = export_onnx(pruned, SHAPE, tmp_path / "model.onnx")
    session = ort.InferenceSession(info["path"], providers=["CPUExecutionProvider"])
    x = torch.randn(7, *SHAPE)
    with torch.no_grad():
        want = model(x)
    got = torch.from_numpy(session.run(None, {session.get_inputs()[0].name: x.numpy()})[0])
    assert relative_change(got, want) <= 1e-5


@pytest.fixture(scope="module")
def sparse_run(tmp_path_factory):
    """(runs folder, run id): slimnet on the digits with Tℓ1 strong enough that most γ are exactly 0."""
    runs = tmp_path_factory.mktemp("sparse") / "runs"
    code = main(["train", "--model", "slimnet", "--dataset", "digits", "--lam", "0.025", "--epochs", "6",
                 "--runs-dir", str(runs), "--json"])
    assert code == 0
    store = RunStore(runs)
    return str(runs), store.list_runs()[0]["id"]


def test_preview_of_only_exact_zeros_changes_nothing(sparse_run, capsys):
    runs, run_id = sparse_run
    capsys.readouterr()
    assert main(["preview", run_id, "--threshold", "1e-30", "--json", "--runs-dir", runs]) == 0
    point = json.loads(capsys.readouterr().out)
    point = point.get("point", point)
    assert point["removed_channels"] > 0
    assert point["output_change"] <= 1e-5
    trained = load_trained(RunStore(runs), run_id)
    from slimcore.training.evaluate import evaluate

    assert point["accuracy"] == evaluate(trained.model, trained.data.val)[1]


def test_prune_and_load_pruned_give_the_trained_function(sparse_run, capsys, tmp_path):
    import onnxruntime as ort

    runs, run_id = sparse_run
    capsys.readouterr()
    assert main(["prune", run_id, "--threshold", "1e-30", "--out", str(tmp_path), "--json", "--runs-dir", runs]) == 0
    report = json.loads(capsys.readouterr().out)
    trained = load_trained(RunStore(runs), run_id)
    loaded = slimcore.load_pruned(tmp_path / "model.pt")
    x = torch.stack([trained.data.val[i][0] for i in range(len(trained.data.val))])
    with torch.no_grad():
        want, got = trained.model(x), loaded(x)
    assert sum(p.numel() for p in loaded.parameters()) < sum(p.numel() for p in trained.model.parameters())
    assert relative_change(got, want) <= 1e-5, report
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    onnx_out = torch.from_numpy(session.run(None, {session.get_inputs()[0].name: x.numpy()})[0])
    assert relative_change(onnx_out, want) <= 1e-5
