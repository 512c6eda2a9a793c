"""A run's step-0 model: starting weights applied, and a model from outside the zoo checked for what pruning can
do with it (the run trains either way)."""
from __future__ import annotations

import torch
from torch import nn

from slimcore.config import TrainConfig
from slimcore.data import load_dataset
from slimcore.training.start import starting_model


def _model_file(tmp_path, source: str) -> str:
    path = tmp_path / "user_models.py"
    path.write_text("import torch\nfrom torch import nn\n" + source)
    return str(path)


NO_BN = '''
def build(num_classes, in_channels, image_size):
    return nn.Sequential(nn.Conv2d(in_channels, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(8, num_classes))
'''

DATA_DEPENDENT = '''
class Branchy(nn.Module):
    def __init__(self, num_classes, in_channels):
        super().__init__()
        self.conv, self.bn = nn.Conv2d(in_channels, 8, 3, bias=False), nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x):
        y = self.bn(self.conv(x))
        if y.sum() > 0:  # control flow on data: torch.fx cannot trace it
            y = y * 2
        return self.fc(y.mean((2, 3)))


def build(num_classes, in_channels, image_size):
    return Branchy(num_classes, in_channels)
'''


def test_a_zoo_model_starts_as_built_with_nothing_to_say():
    config = TrainConfig(model="slimnet", dataset="digits")
    data = load_dataset("digits")
    torch.manual_seed(0)
    start = starting_model(config, data)
    assert start.notes == [] and start.unprunable is None


def test_a_model_without_batchnorm_is_named_unprunable_and_still_trains(tmp_path):
    from slimcore.training.trainer import Trainer

    config = TrainConfig(model=f"{_model_file(tmp_path, NO_BN)}:build", dataset="digits", epochs=1, penalty="none",
                         device="cpu")
    start = starting_model(config, load_dataset("digits"))
    assert "no BatchNorm2d layer" in start.unprunable
    assert start.notes == [f"this model cannot be pruned ({start.unprunable}); it trains all the same"]
    status, _ = Trainer(config).fit()
    assert status == "finished"


def test_an_untraceable_model_is_named_unprunable(tmp_path):
    config = TrainConfig(model=f"{_model_file(tmp_path, DATA_DEPENDENT)}:build", dataset="digits")
    start = starting_model(config, load_dataset("digits"))
    assert "cannot trace" in start.unprunable and "torch.fx" in start.unprunable


def test_resuming_leaves_out_the_starting_weights(tmp_path):
    """A resumed run reads its weights from its checkpoint: a starting file deleted since is not needed."""
    from slimcore.models import create_model

    weights = tmp_path / "w.pt"
    torch.save(create_model("slimnet", 10, 1, 8).state_dict(), weights)
    config = TrainConfig(model="slimnet", dataset="digits", init_from=str(weights))
    weights.unlink()
    start = starting_model(config, load_dataset("digits"), initial_weights=False)
    assert isinstance(start.model, nn.Module)
