"""Distillation from the unpruned model (`slimcore.pruning.distill`): the loss is Hinton et al.'s definition, computed
by hand here; the teacher stays exactly as it was (eval mode, no gradient, its BN statistics untouched) and runs under
the training step's autocast; fine-tuning with it is the training loop's (events, schedule)."""
from __future__ import annotations

import math

import pytest
import torch

from slimcore.config import TrainConfig
from slimcore.data import load_dataset
from slimcore.models import create_model
from slimcore.pruning.distill import DistillingTrainer, distillation_loss
from slimcore.pruning.finetune import finetune, finetune_config
from slimcore.pruning.settings import FineTuneSettings
from slimcore.training.events import Observer

PARENT = TrainConfig(dataset="digits", penalty="l1", lam=1e-3, batch_size=128, seed=3, snapshot_every=5).to_dict()


def _softmax(z: list[float], t: float) -> list[float]:
    e = [math.exp(v / t) for v in z]
    return [v / sum(e) for v in e]


def by_hand(student: list[list[float]], teacher: list[list[float]], labels: list[int], t: float, w: float) -> float:
    """The definition, sample by sample in plain floats: (1−W)·CE + W·T²·Σ p_t·log(p_t / p_s), averaged."""
    total = 0.0
    for s, q, y in zip(student, teacher, labels):
        ce = -math.log(_softmax(s, 1.0)[y])
        p_t, p_s = _softmax(q, t), _softmax(s, t)
        kl = sum(a * math.log(a / b) for a, b in zip(p_t, p_s))
        total += (1 - w) * ce + w * t * t * kl
    return total / len(labels)


def test_the_loss_is_its_definition_on_a_small_example():
    student = [[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]]
    teacher = [[1.5, 1.0, -0.5], [-1.0, 2.0, 0.0]]
    labels = [0, 2]
    for t, w in ((4.0, 0.9), (1.0, 0.5), (2.5, 0.0), (3.0, 1.0)):
        got = distillation_loss(torch.tensor(student), torch.tensor(teacher), torch.tensor(labels), t, w)
        assert got.item() == pytest.approx(by_hand(student, teacher, labels, t, w), rel=1e-6)


def test_first_sample_worked_out():
    # student [ln 1, ln 3] → p_s(T=1) = (1/4, 3/4); teacher [0, 0] → p_t = (1/2, 1/2); label 1; T = 1, W = 1/2:
    # CE = −ln(3/4); KL = ½·ln(½ / ¼) + ½·ln(½ / ¾) = ½·ln(4/3); loss = ½·ln(4/3) + ½·½·ln(4/3) = ¾·ln(4/3).
    loss = distillation_loss(torch.tensor([[0.0, math.log(3.0)]]), torch.zeros(1, 2), torch.tensor([1]), 1.0, 0.5)
    assert loss.item() == pytest.approx(0.75 * math.log(4 / 3), rel=1e-6)


def test_a_student_equal_to_its_teacher_pays_only_the_label_term():
    logits = torch.tensor([[1.0, -2.0, 0.5]])
    ce = torch.nn.functional.cross_entropy(logits, torch.tensor([2])).item()
    assert distillation_loss(logits, logits.clone(), torch.tensor([2]), 4.0, 0.9).item() == pytest.approx(0.1 * ce)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=3)


def net(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return create_model("slimnet", 10, 1, 8)


def full_state(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}  # BN running statistics included


def test_fine_tuning_leaves_the_teacher_exactly_as_it_was(digits):
    teacher, student = net(0), net(1)
    teacher.train()  # the caller's mode must not matter: the loop's teacher is in eval mode
    before = full_state(teacher)
    settings = FineTuneSettings(epochs=1, device="cpu", distill=True)
    result = finetune(student, digits, PARENT, settings, teacher=teacher)
    assert result.status == "finished"
    assert all(torch.equal(v, before[k]) for k, v in teacher.state_dict().items())
    assert all(p.grad is None for p in teacher.parameters())
    # and its own copy inside the loop: eval mode, no gradients, unchanged after a whole fit
    trainer = DistillingTrainer(finetune_config(PARENT, 1, 0.05, "cosine", "cpu"), teacher, 4.0, 0.9, data=digits,
                                model=net(2))
    trainer.fit()
    assert not trainer.teacher.training and not any(p.requires_grad for p in trainer.teacher.parameters())
    assert all(torch.equal(v, before[k]) for k, v in trainer.teacher.state_dict().items())


def test_distilled_fine_tuning_moves_the_student_toward_the_teacher(digits):
    teacher = net(0)
    plain, distilled = net(1), net(1)
    finetune(plain, digits, PARENT, FineTuneSettings(epochs=2, lr=0.05, device="cpu"))
    finetune(distilled, digits, PARENT, FineTuneSettings(epochs=2, lr=0.05, device="cpu", distill=True,
                                                         distill_weight=1.0), teacher=teacher)
    x = torch.stack([digits.val[i][0] for i in range(200)])
    with torch.no_grad():
        target = teacher.eval()(x).softmax(1)
        gaps = [float((m(x).softmax(1) - target).abs().sum(1).mean()) for m in (plain, distilled)]
    assert gaps[1] < gaps[0]  # with W = 1 the labels play no part: only imitating the teacher lowers the loss


def test_the_teacher_runs_without_gradients_under_the_steps_autocast(digits):
    seen = []
    teacher = net(0)
    trainer = DistillingTrainer(finetune_config(PARENT, 1, 0.05, "cosine", "cpu"), teacher, 4.0, 0.9, data=digits,
                                model=net(1))
    trainer.amp_dtype = torch.bfloat16  # AMP as on a GPU (the CPU autocasts bfloat16)
    trainer.teacher.register_forward_hook(
        lambda m, i, o: seen.append((torch.is_grad_enabled(), torch.is_autocast_enabled("cpu"), o.dtype)))
    x, y = digits.train[0]
    trainer._one_step(x.unsqueeze(0).repeat(4, 1, 1, 1), torch.tensor([y] * 4), 1.0)
    assert seen == [(False, True, torch.bfloat16)]


def test_distilled_fine_tuning_announces_the_loops_events(digits):
    class Count(Observer):
        def __init__(self):
            self.steps, self.epochs, self.lrs = 0, 0, []

        def on_step(self, trainer, info):
            self.steps += 1
            self.lrs.append(info.lr)

        def on_epoch_end(self, trainer, info):
            self.epochs += 1

    count = Count()
    finetune(net(1), digits, PARENT, FineTuneSettings(epochs=2, lr=0.05, device="cpu", distill=True), [count],
             teacher=net(0))
    assert count.epochs == 2 and count.steps > 2
    assert all(b < a for a, b in zip(count.lrs, count.lrs[1:])) and count.lrs[0] < 0.05  # the cosine schedule


def test_distillation_without_a_teacher_is_refused(digits):
    with pytest.raises(ValueError, match="teacher"):
        finetune(net(1), digits, PARENT, FineTuneSettings(epochs=1, device="cpu", distill=True))
