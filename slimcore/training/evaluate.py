"""Accuracy and loss of a model on a data split."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from slimcore.training.batches import iterate_batches, sequential_batches


@torch.no_grad()
def evaluate_sums(model: nn.Module, dataset: Dataset, device: torch.device | str = "cpu",
                  batch_size: int = 500, num_workers: int = 0) -> tuple[float, int, int]:
    """(summed cross-entropy, correct predictions, samples) of `model` in eval mode; restores its mode after."""
    was_training = model.training
    model.eval()
    device = torch.device(device)
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    n = 0
    for x, y in iterate_batches(dataset, sequential_batches(len(dataset), batch_size), device, num_workers):
        logits = model(x)
        loss_sum += F.cross_entropy(logits.float(), y, reduction="sum")
        correct += (logits.argmax(1) == y).sum()
        n += y.numel()
    model.train(was_training)
    return loss_sum.item(), int(correct.item()), n


def evaluate(model: nn.Module, dataset: Dataset, device: torch.device | str = "cpu",
             batch_size: int = 500, num_workers: int = 0) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of `model` in eval mode; NaN for an empty split."""
    loss_sum, correct, n = evaluate_sums(model, dataset, device, batch_size, num_workers)
    if n == 0:
        return float("nan"), float("nan")
    return loss_sum / n, correct / n


@torch.no_grad()
def logits_and_labels(model: nn.Module, dataset: Dataset, device: torch.device | str = "cpu",
                      batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """Every sample's logits (float32, on the CPU) and label, in order, with `model` in eval mode; its mode is
    restored after. The same batches as `evaluate`, so an accuracy computed from them is the same number."""
    was_training = model.training
    model.eval()
    device = torch.device(device)
    outs, labels = [], []
    for x, y in iterate_batches(dataset, sequential_batches(len(dataset), batch_size), device):
        outs.append(model(x).float().cpu())
        labels.append(y.cpu())
    model.train(was_training)
    if not outs:
        return torch.zeros(0), torch.zeros(0, dtype=torch.long)
    return torch.cat(outs), torch.cat(labels)
