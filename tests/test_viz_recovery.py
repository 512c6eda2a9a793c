"""The figures of recovery after the cut (`slimcore.viz.recovery`): a commit's fine-tuning curves with a line where
each later cut starts, and an iterative commit's path from the unpruned model through each cut and its fine-tune."""
from __future__ import annotations

import pytest

from conftest import valid_figure
from slimcore.viz.recovery import finetune_curves, step_path


def series(epochs, values):
    return {"step": list(range(len(epochs))), "epoch": list(epochs), "value": list(values)}


def test_finetune_curves_draw_loss_and_accuracy_apart_with_a_line_at_each_later_cut():
    metrics = {"train_loss": series([0.1, 0.5, 1.2], [2.0, 1.0, 0.8]), "val_accuracy": series([1, 2], [0.6, 0.8]),
               "sparsity@0": series([0.5], [0.1])}
    fig = valid_figure(finetune_curves(metrics, cuts_at=[1.0, 2.0], epochs=3))
    by_name = {t.name: t for t in fig.data}
    assert set(by_name) == {"train loss", "val acc"}  # no sparsity panel: fine-tuning does not sparsify
    assert by_name["train loss"].xaxis == "x" and by_name["val acc"].xaxis == "x2"
    assert list(by_name["val acc"].y) == [0.6, 0.8]
    assert sorted(s.x0 for s in fig.layout.shapes) == [1.0, 1.0, 2.0, 2.0]  # both panels
    assert [a.text for a in fig.layout.annotations if a.text.startswith("cut")] == ["cut 2", "cut 3"]
    assert list(fig.layout.xaxis.range) == [0, 3] == list(fig.layout.xaxis2.range)


def test_a_distilled_fine_tunes_train_loss_is_named_for_what_it_is():
    fig = valid_figure(finetune_curves({"train_loss": series([0.5], [1.0])}, distilled=True))
    assert [t.name for t in fig.data] == ["train loss (distillation)"]


def test_finetune_curves_before_any_metric_is_an_empty_figure():
    fig = valid_figure(finetune_curves({}))
    assert not fig.data and not fig.layout.shapes


STEPS = [
    {"step": 1, "target_flops_ratio": 0.75, "flops_ratio": 0.74, "before_finetune": {"val_accuracy": 0.3},
     "val_accuracy": 0.8},
    {"step": 2, "target_flops_ratio": 0.5, "flops_ratio": 0.49, "before_finetune": {"val_accuracy": 0.2},
     "val_accuracy": 0.7},
]


def test_step_path_goes_from_the_unpruned_model_through_each_cut_and_its_fine_tune():
    fig = valid_figure(step_path(STEPS, base_accuracy=0.9))
    path = next(t for t in fig.data if t.name == "path")
    assert list(path.x) == pytest.approx([100, 74, 74, 49, 49])
    assert list(path.y) == [0.9, 0.3, 0.8, 0.2, 0.7]
    cut = next(t for t in fig.data if t.name == "after the cut")
    tuned = next(t for t in fig.data if t.name == "fine-tuned")
    assert list(cut.y) == [0.3, 0.2] and list(tuned.y) == [0.8, 0.7]
    assert list(tuned.text) == ["step 1: fine-tuned", "step 2: fine-tuned"]
    targets = sorted(s.x0 for s in fig.layout.shapes if s.xref == "x")
    assert targets == pytest.approx([50, 75])
    assert fig.layout.xaxis.range[0] > fig.layout.xaxis.range[1]  # more pruned to the right: the path reads on


def test_step_path_without_the_unpruned_accuracy_starts_at_the_first_cut():
    fig = valid_figure(step_path(STEPS[:1]))
    assert list(next(t for t in fig.data if t.name == "path").y) == [0.3, 0.8]
    assert not fig.layout.annotations
