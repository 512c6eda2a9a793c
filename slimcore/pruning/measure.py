"""Measuring one selection: build exactly the model commit would build, evaluate it, describe it as a point."""
from __future__ import annotations

from slimcore.analysis.structure import pruned_model
from slimcore.pruning.math.plan import Selection
from slimcore.pruning.trained import TrainedRun
from slimcore.training.evaluate import evaluate

DEFINITIONS = {"macs": "multiply-accumulates of every conv and linear layer for one input",
               "flops": "2 × macs (as torch.utils.flop_counter counts them)"}


def describe_point(trained: TrainedRun, selection: Selection | None, accuracy: float, params: int) -> dict:
    """The JSON of one point: threshold, macs, flops, params, val accuracy, per-BN widths, and how it was cut."""
    st = trained.structure
    plan = selection.plan if selection is not None else st.empty_plan()
    macs, base_macs = st.macs(plan), st.macs(st.empty_plan())
    return {
        "threshold": None if selection is None else selection.threshold,
        "macs": macs, "flops": 2 * macs, "params": int(params), "accuracy": accuracy,
        "flops_ratio": macs / base_macs if base_macs else 1.0,
        "removed_channels": 0 if selection is None else selection.removed,
        "clamped": False if selection is None else selection.clamped,
        "widths": st.widths(plan),
    }


def measure(trained: TrainedRun, selection: Selection | None, split: str = "val") -> tuple[dict, object]:
    """Builds the committed model of a selection (the unpruned one for None), evaluates it: (point, model)."""
    st = trained.structure
    model = pruned_model(trained.model, st, selection.plan if selection is not None else st.empty_plan())
    accuracy = evaluate(model, getattr(trained.data, split))[1]
    return describe_point(trained, selection, accuracy, sum(p.numel() for p in model.parameters())), model
