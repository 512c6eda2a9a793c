"""Accuracy and loss on a split (`slimcore.training.evaluate`): equal to a count by hand, in eval mode, the model's
mode restored after, and NaN for an empty split."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import TensorDataset

from slimcore.training.evaluate import evaluate, evaluate_sums


class Fixed(nn.Module):
    """Logits are the inputs themselves; dropout would change them in training mode."""

    def __init__(self) -> None:
        super().__init__()
        self.drop = nn.Dropout(0.9)

    def forward(self, x):
        return self.drop(x)


def test_loss_and_accuracy_equal_a_count_by_hand_over_several_batches():
    torch.manual_seed(0)
    x, y = torch.randn(13, 4), torch.randint(0, 4, (13,))
    model = Fixed().train()
    loss, accuracy = evaluate(model, TensorDataset(x, y), batch_size=5)
    assert accuracy == (x.argmax(1) == y).sum().item() / 13
    assert math.isclose(loss, F.cross_entropy(x, y).item(), rel_tol=1e-6)
    loss_sum, correct, n = evaluate_sums(model, TensorDataset(x, y), batch_size=4)
    assert (correct, n) == ((x.argmax(1) == y).sum().item(), 13)
    assert math.isclose(loss_sum, F.cross_entropy(x, y, reduction="sum").item(), rel_tol=1e-6)
    assert model.training  # evaluated in eval mode (no dropout), handed back in training mode


def test_an_empty_split_is_nan_not_a_division_error():
    loss, accuracy = evaluate(Fixed(), TensorDataset(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long)))
    assert math.isnan(loss) and math.isnan(accuracy)
