"""The speed options of the GPU path that can be exercised on a CPU: torch.compile and resident data."""
from __future__ import annotations

import pytest
import torch
from torch.utils.data import TensorDataset

from slimcore.config import TrainConfig
from slimcore.training.batches import iterate_batches, resident_on


def test_in_memory_data_stays_put_on_cpu_and_batches_are_unchanged():
    data = TensorDataset(torch.arange(40.0).view(10, 4), torch.arange(10))
    assert resident_on(data, torch.device("cpu")) is data
    (x, y), = list(iterate_batches(data, [[3, 1, 7]], torch.device("cpu")))
    assert y.tolist() == [3, 1, 7] and torch.equal(x[:, 0], torch.tensor([12.0, 4.0, 28.0]))


def test_compile_flag_is_validated_and_reaches_the_cli():
    from slimcore.cli.main import build_parser
    from slimcore.cli.training import config_from_args
    from slimcore.errors import ConfigError

    args = build_parser().parse_args(["train", "--compile"])
    assert config_from_args(args).compile is True
    with pytest.raises(ConfigError, match="compile"):
        TrainConfig(compile="yes")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_compiled_training_learns_and_saves_plain_weights(tmp_path):
    """torch.compile wraps the forward pass only: the checkpoint holds the plain model's state dict."""
    from slimcore.training.trainer import Trainer

    cfg = TrainConfig(dataset="digits", epochs=2, compile=True, penalty="l1", lam=1e-4,
                      penalty_params={"mode": "subgradient"})
    trainer = Trainer(cfg, checkpoint_path=tmp_path / "last.pt")
    status, _ = trainer.fit()
    assert status == "finished"
    state = torch.load(tmp_path / "last.pt", weights_only=True)["model"]
    assert not any("_orig_mod" in k for k in state)
    from slimcore.training.evaluate import evaluate

    assert evaluate(trainer.model, trainer.data.val)[1] > 0.7  # the plain run reaches ~0.9
