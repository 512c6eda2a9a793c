"""Measuring a selection (`slimcore.pruning.measure`): the point describes exactly the model it evaluated — its
MACs, parameters, val accuracy and per-BN widths."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from slimcore.analysis.structure import pruned_model
from slimcore.pruning.math.plan import select
from slimcore.pruning.math.rankings import bn_scores
from slimcore.pruning.measure import describe_point, measure
from slimcore.pruning.trained import load_trained
from slimcore.training.evaluate import evaluate


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def val_x(trained) -> torch.Tensor:
    return torch.stack([trained.data.val[i][0] for i in range(len(trained.data.val))])


def test_the_unpruned_point_is_the_trained_model(digits_run):
    trained = load_trained(*digits_run)
    point, model = measure(trained, None)
    st = trained.structure
    assert point == {"threshold": None, "macs": st.macs(st.empty_plan()), "flops": 2 * st.macs(st.empty_plan()),
                     "params": n_params(trained.model), "accuracy": evaluate(trained.model, trained.data.val)[1],
                     "flops_ratio": 1.0, "removed_channels": 0, "clamped": False, "widths": st.bn_sizes,
                     "output_change": 0.0}
    assert model is not trained.model  # a copy: the run's model is never modified


def test_a_selection_point_is_the_cut_model_measured(digits_run):
    trained = load_trained(*digits_run)
    st = trained.structure
    scores = bn_scores(trained.model, st.groups)
    sel = select(scores, float(np.quantile(np.concatenate(scores), 0.4)))
    point, model = measure(trained, sel, split="test")
    reference = pruned_model(trained.model, st, sel.plan, trained.compensation)
    assert point["accuracy"] == evaluate(reference, trained.data.test)[1] == evaluate(model, trained.data.test)[1]
    val_point, _ = measure(trained, sel)
    with torch.no_grad():
        cut, full = reference(val_x(trained)), trained.model(val_x(trained))
    assert val_point["output_change"] == pytest.approx(float((cut - full).norm() / full.norm()), rel=1e-5)
    assert val_point["output_change"] > 0  # these channels were not constant
    assert point["params"] == n_params(model) == n_params(reference) < n_params(trained.model)
    assert point["removed_channels"] == sel.removed > 0 and point["threshold"] == sel.threshold
    assert point["widths"] == st.widths(sel.plan) and point["macs"] == st.macs(sel.plan)
    assert point["flops_ratio"] == st.macs(sel.plan) / st.macs(st.empty_plan()) < 1
    assert describe_point(trained, sel, 0.5, 7, point["output_change"]) == {**point, "accuracy": 0.5, "params": 7}
