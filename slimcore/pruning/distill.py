"""Knowledge distillation while fine-tuning a pruned model: the unpruned network is the teacher (Hinton, Vinyals &
Dean, "Distilling the Knowledge in a Neural Network", 2015). It plugs into the training loop as its task loss, so
fine-tuning keeps the loop's schedules, AMP, events and observers."""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from slimcore.config import TrainConfig
from slimcore.training.trainer import Trainer


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, labels: torch.Tensor, temperature: float,
                      weight: float) -> torch.Tensor:
    """(1 − W)·CE(student, y) + W·T²·KL(softmax(teacher/T) ‖ softmax(student/T)), both terms averaged over the batch.

    Hinton et al. 2015, §2: the soft-target term is the cross-entropy to the teacher's softened distribution, whose
    gradient w.r.t. the student's logits is (q_i − p_i)/T; that term's magnitude scales as 1/T², hence the T² so
    that its share of the gradient stays W whatever T is. KL differs from that cross-entropy by the teacher's
    entropy, a constant, so the gradient is the same and the loss is 0 when the student matches the teacher.
    """
    hard = F.cross_entropy(student, labels)
    soft = F.kl_div(F.log_softmax(student / temperature, dim=1), F.log_softmax(teacher / temperature, dim=1),
                    reduction="batchmean", log_target=True)
    return (1.0 - weight) * hard + weight * temperature ** 2 * soft


class DistillingTrainer(Trainer):
    """The training loop whose task loss is `distillation_loss` against a frozen teacher: a copy of `teacher` on the
    training device, in eval mode (its BN statistics stay as trained), without gradients, under the step's autocast
    where training uses AMP."""

    def __init__(self, config: TrainConfig, teacher: nn.Module, temperature: float, weight: float, **kwargs) -> None:
        super().__init__(config, **kwargs)
        self.teacher = copy.deepcopy(teacher).to(self.device).eval()
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        self.temperature, self.weight = float(temperature), float(weight)

    def task_loss(self, x: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            target = self.teacher(x)
        return distillation_loss(logits.float(), target.float(), y, self.temperature, self.weight)
