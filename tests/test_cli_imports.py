"""`slimcore import` and `train --init-from / --pretrained` with a torchvision resnet18 whose weights the test
writes (the CIFAR stem a user of small images gives it), on an image folder the test writes: imported, previewed
and pruned, its committed model equal to the masked model; and every bad input refused with nothing recorded."""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from slimcore.cli.main import main
from slimcore.store import RunStore

CLASSES, PER_CLASS = 3, 10


def cifar_resnet18(num_classes: int = CLASSES, seed: int = 0) -> torch.nn.Module:
    """torchvision's resnet18 with the stem CIFAR users give it (3×3 stride 1, no max-pool), BN spread out."""
    torch.manual_seed(seed)
    model = torchvision.models.resnet18(num_classes=num_classes)
    model.conv1 = torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    model.maxpool = torch.nn.Identity()
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.data = torch.rand(m.num_features, generator=g)
            m.running_mean.data = 0.1 * torch.randn(m.num_features, generator=g)
    return model


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """(weights file, image folder)."""
    root = tmp_path_factory.mktemp("import")
    weights = root / "resnet18.pt"
    torch.save(cifar_resnet18().state_dict(), weights)
    rng = np.random.default_rng(0)
    for c in range(CLASSES):
        folder = root / "images" / f"class{c}"
        folder.mkdir(parents=True)
        for i in range(PER_CLASS):
            Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    return weights, root / "images"


def _import(weights, images, runs, capsys, *extra) -> dict:
    code = main(["import", str(weights), "--model", "tv_resnet18", "--dataset", "imagefolder", "--data-root",
                 str(images), "--json", "--runs-dir", str(runs), *extra])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def test_import_records_a_finished_run_with_its_weights_gamma_and_accuracies(files, tmp_path, capsys):
    from slimcore.pruning.trained import load_trained
    from slimcore.training.evaluate import evaluate

    weights, images = files
    out = _import(weights, images, tmp_path / "runs", capsys)
    store = RunStore(tmp_path / "runs")
    run = store.get_run(out["run_id"])
    assert (run["kind"], run["status"]) == ("import", "finished")
    state = torch.load(weights, weights_only=True)
    trained = load_trained(store, out["run_id"])
    for key, value in trained.model.state_dict().items():
        assert torch.equal(value, state[key]), key
    snaps = store.snapshots(out["run_id"])
    assert len(snaps) == 1 and snaps[0]["step"] == 0
    want = torch.cat([state[f"{layer['name']}.weight"] for layer in run["layers"]]).numpy()
    np.testing.assert_array_equal(np.asarray(snaps[0]["gamma"]), want)
    assert out["val_accuracy"] == evaluate(trained.model, trained.data.val)[1]
    assert out["test_accuracy"] == evaluate(trained.model, trained.data.test)[1]
    assert run["summary"]["val_accuracy"] == out["val_accuracy"]
    assert main(["runs", "--json", "--runs-dir", str(tmp_path / "runs")]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert (row["kind"], row["model"], row["dataset"]) == ("import", "tv_resnet18", "imagefolder")


@pytest.mark.slow
def test_an_imported_resnet18_previews_and_prunes_to_the_masked_model(files, tmp_path, capsys):
    from test_plugins import _masked_equals_pruned

    weights, images = files
    runs = tmp_path / "runs"
    run_id = _import(weights, images, runs, capsys)["run_id"]
    assert main(["preview", run_id, "--points", "3", "--json", "--runs-dir", str(runs)]) == 0
    curve = json.loads(capsys.readouterr().out)
    assert curve["base"]["flops_ratio"] == 1 and curve["points"][0]["flops_ratio"] < 1
    threshold = 0.3  # γ are uniform on [0, 1): about 30 % of the channels go
    assert main(["prune", run_id, "--threshold", str(threshold), "--out", str(tmp_path / "out"), "--json",
                 "--runs-dir", str(runs)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert 0.3 < report["flops_ratio"] < 0.9
    assert _masked_equals_pruned(runs, run_id, threshold, tmp_path / "out" / "model.pt") <= 1e-5


def test_init_from_gives_step_0_the_files_weights(files, tmp_path, capsys):
    from slimcore.config import TrainConfig
    from slimcore.training.trainer import Trainer

    weights, images = files
    state = torch.load(weights, weights_only=True)
    config = TrainConfig(model="tv_resnet18", dataset="imagefolder", data_root=str(images), epochs=1,
                         init_from=str(weights), device="cpu")
    trainer = Trainer(config)
    for key, value in trainer.model.state_dict().items():
        assert torch.equal(value, state[key]), key
    assert trainer.notes == []
    # through the CLI: the run's step-0 γ snapshot is the file's γ
    runs = tmp_path / "runs"
    assert main(["train", "--model", "tv_resnet18", "--dataset", "imagefolder", "--data-root", str(images),
                 "--init-from", str(weights), "--epochs", "1", "--batch-size", "8", "--json",
                 "--runs-dir", str(runs)]) == 0
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    store = RunStore(runs)
    first = store.snapshots(run_id)[0]
    layers = store.get_run(run_id)["layers"]
    assert first["step"] == 0
    np.testing.assert_array_equal(np.asarray(first["gamma"]),
                                  torch.cat([state[f"{la['name']}.weight"] for la in layers]).numpy())


def test_init_from_replaces_a_head_of_another_class_count_and_says_so(files, tmp_path, capsys):
    from slimcore.config import TrainConfig
    from slimcore.training.trainer import Trainer

    _, images = files
    other = tmp_path / "ten_classes.pt"
    torch.save({"state_dict": {f"module.{k}": v for k, v in cifar_resnet18(num_classes=10).state_dict().items()}},
               other)  # a training script's layout, saved from DataParallel
    trainer = Trainer(TrainConfig(model="tv_resnet18", dataset="imagefolder", data_root=str(images), epochs=1,
                                  init_from=str(other), device="cpu"))
    assert len(trainer.notes) == 1 and "classifier head 'fc' replaced" in trainer.notes[0]
    assert "10 classes, the data 3" in trainer.notes[0]
    state = torch.load(other, weights_only=True)["state_dict"]
    assert torch.equal(trainer.model.layer4[1].bn2.weight, state["module.layer4.1.bn2.weight"])
    assert trainer.model.fc.weight.shape == (CLASSES, 512)


def _published_file(tmp_path, monkeypatch) -> Path:
    """torchvision's resnet18 weights file, written where torch's hub cache looks (a test-made stand-in)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    from slimcore.models.weights import published_weights_path

    _, path = published_weights_path("tv_resnet18")
    path.parent.mkdir(parents=True)
    torch.manual_seed(1)
    torch.save(torchvision.models.resnet18().state_dict(), path)
    return path


def test_pretrained_reads_the_published_file_and_replaces_head_and_stem(files, tmp_path, monkeypatch):
    from slimcore.config import TrainConfig
    from slimcore.training.trainer import Trainer

    path = _published_file(tmp_path, monkeypatch)
    _, images = files
    trainer = Trainer(TrainConfig(model="tv_resnet18", dataset="imagefolder", data_root=str(images), epochs=1,
                                  pretrained=True, device="cpu"))
    state = torch.load(path, weights_only=True)
    assert torch.equal(trainer.model.layer2[0].conv1.weight, state["layer2.0.conv1.weight"])
    notes = " ".join(trainer.notes)
    assert "classifier head 'fc' replaced" in notes and "stem 'conv1' re-initialised" in notes


def test_pretrained_without_network_says_where_to_put_the_file(tmp_path, monkeypatch, capsys):
    import urllib.error

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    runs = tmp_path / "runs"
    assert main(["train", "--model", "tv_resnet18", "--dataset", "digits", "--pretrained", "--runs-dir",
                 str(runs)]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth") in err
    assert err.count("\n") == 1 and not (runs / "runs.db").exists() or RunStore(runs).list_runs() == []


class _Payload:
    def __reduce__(self):
        return (print, ("this would run",))


def _bad_inputs(tmp_path, weights) -> dict[str, tuple[list[str], str]]:
    """name → (CLI arguments, what the one-line message says)."""
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.py").write_text("import nosuchmodule\n")
    (bad / "models.py").write_text("import torch\ndef two(num_classes, in_channels):\n    return None\n"
                                   "def not_module(num_classes, in_channels, image_size):\n    return 42\n"
                                   "def fails(num_classes, in_channels, image_size):\n    raise RuntimeError('boom')\n")
    truncated = bad / "truncated.pt"
    truncated.write_bytes(weights.read_bytes()[:5000])
    code = bad / "code.pt"
    code.write_bytes(pickle.dumps({"conv1.weight": _Payload()}))
    slim = bad / "slimnet.pt"
    from slimcore.models import create_model

    torch.save(create_model("slimnet", 3, 3, 32).state_dict(), slim)
    m = str(bad / "models.py")
    train = ["train", "--dataset", "digits", "--epochs", "1"]
    imp = ["--model", "tv_resnet18", "--dataset", "digits"]
    return {
        "module does not import": (train + ["--model", f"{bad / 'broken.py'}:build"], "does not import"),
        "module not found": (train + ["--model", "nosuch_pkg.models:build"], "does not import"),
        "missing callable": (train + ["--model", f"{m}:nothere"], "has no 'nothere'"),
        "wrong signature": (train + ["--model", f"{m}:two"], "cannot be called as"),
        "returns no module": (train + ["--model", f"{m}:not_module"], "not a torch.nn.Module"),
        "callable raises": (train + ["--model", f"{m}:fails"], "failed to build"),
        "weights missing": (["import", str(bad / "nothere.pt"), *imp], "does not exist"),
        "weights truncated": (["import", str(truncated), *imp], "truncated"),
        "pickle that runs code": (["import", str(code), *imp], "refused for safety"),
        "another architecture": (["import", str(slim), *imp], "does not fit model 'tv_resnet18'"),
        "init-from mis-shaped": (train + ["--model", "tv_resnet18", "--init-from", str(weights)],
                                 "mis-shaped key(s) conv1.weight (file 64×3×3×3, model 64×1×3×3)"),
        "no published weights": (train + ["--model", "slimnet", "--pretrained"], "has no published weights"),
        "import needs weights": (["import", *imp], "give the weights file"),
        "both starting weights": (train + ["--model", "tv_resnet18", "--init-from", str(slim), "--pretrained"],
                                  "not both"),
        "zero epochs": (train[:-2] + ["--epochs", "0", "--init-from", str(slim)], "slimcore import"),
    }


def test_every_bad_input_is_one_line_exit_2_and_records_nothing(files, tmp_path, capsys):
    weights, _ = files
    runs = tmp_path / "runs"
    RunStore(runs).close()  # an existing store: nothing may be added to it
    for name, (args, says) in _bad_inputs(tmp_path, weights).items():
        code = main([*args, "--runs-dir", str(runs)])
        err = capsys.readouterr().err
        assert code == 2, (name, err)
        assert says in err and err.startswith("slimcore: error:") and err.count("\n") == 1, (name, err)
    assert RunStore(runs).list_runs() == []
