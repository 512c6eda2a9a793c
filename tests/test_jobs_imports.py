"""The `import` job kind: its checks refuse what it cannot record, before anything is recorded; it stops cleanly."""
from __future__ import annotations

import pytest
import torch

from slimcore import jobs
from slimcore.config import TrainConfig
from slimcore.errors import CheckpointError, ConfigError
from slimcore.jobs.imports import import_config
from slimcore.store import RunStore


@pytest.fixture
def weights(tmp_path):
    from slimcore.models import create_model

    torch.manual_seed(3)
    path = tmp_path / "slimnet.pt"
    torch.save(create_model("slimnet", 10, 1, 8).state_dict(), path)
    return path


def test_an_import_is_a_finished_run_of_kind_import_with_its_checkpoint(tmp_path, weights):
    store = RunStore(tmp_path / "runs")
    run_id = jobs.create(store, "import", import_config("slimnet", "digits", weights=str(weights), label="mine"))
    assert "mine" in run_id
    status, message = jobs.run_here(store, run_id)
    run = store.get_run(run_id)
    assert status == run["status"] == "finished" and "val accuracy" in message
    assert run["config"]["epochs"] == 0 and run["config"]["init_from"] == str(weights.resolve())
    assert jobs.holds_model(run) and [r["id"] for r in jobs.model_runs(store)] == [run_id]
    ckpt = store.latest_checkpoint(run_id)
    saved = torch.load(ckpt["path"], weights_only=True)["model"]
    for key, value in torch.load(weights, weights_only=True).items():
        assert torch.equal(saved[key], value)
    assert run["summary"]["source"] == str(weights.resolve()) and run["progress"] == 1


def test_check_refuses_what_it_cannot_import(tmp_path, weights):
    store = RunStore(tmp_path / "runs")
    with pytest.raises(ConfigError, match="needs weights"):
        jobs.create(store, "import", TrainConfig(model="slimnet", dataset="digits", penalty="none", epochs=1))
    with pytest.raises(ConfigError, match="trains nothing"):
        jobs.create(store, "import", TrainConfig(model="slimnet", dataset="digits", epochs=1, init_from=str(weights)))
    with pytest.raises(CheckpointError, match="does not fit model 'tv_resnet18'"):
        jobs.create(store, "import", import_config("tv_resnet18", "digits", weights=str(weights)))
    with pytest.raises(ConfigError, match="at least one epoch"):
        jobs.create(store, "train", import_config("slimnet", "digits", weights=str(weights)))
    assert store.list_runs() == []


def test_a_stop_before_the_weights_are_recorded_keeps_nothing(tmp_path, weights):
    store = RunStore(tmp_path / "runs")
    run_id = jobs.create(store, "import", import_config("slimnet", "digits", weights=str(weights)))
    status, message = jobs.run_here(store, run_id, should_stop=lambda: True)
    assert status == "stopped" and "nothing was kept" in message
    assert store.latest_checkpoint(run_id) is None
