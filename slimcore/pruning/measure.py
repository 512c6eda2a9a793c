"""Measuring one selection: build exactly the model commit would build, evaluate it, describe it as a point."""
from __future__ import annotations

from slimcore.analysis.structure import pruned_model
from slimcore.pruning.math.plan import Selection
from slimcore.pruning.trained import TrainedRun
from slimcore.training.evaluate import logits_and_labels

DEFINITIONS = {"macs": "multiply-accumulates of every conv and linear layer for one input",
               "flops": "2 × macs (as torch.utils.flop_counter counts them)",
               "output_change": "‖cut model's logits − unpruned logits‖ / ‖unpruned logits‖ over the split"}


def output_change(logits, reference) -> float:
    """The relative change of a model's logits against the unpruned network's: ‖Δ‖ / ‖reference‖."""
    scale = float(reference.norm())
    return float((logits - reference).norm()) / scale if scale else 0.0


def describe_point(trained: TrainedRun, selection: Selection | None, accuracy: float, params: int,
                   change: float = 0.0) -> dict:
    """The JSON of one point: threshold, macs, flops, params, val accuracy, per-BN widths, and how it was cut."""
    st = trained.structure
    plan = selection.plan if selection is not None else st.empty_plan()
    macs, base_macs = st.macs(plan), st.macs(st.empty_plan())
    return {
        "threshold": None if selection is None else selection.threshold,
        "macs": macs, "flops": 2 * macs, "params": int(params), "accuracy": accuracy, "output_change": change,
        "flops_ratio": macs / base_macs if base_macs else 1.0,
        "removed_channels": 0 if selection is None else selection.removed,
        "clamped": False if selection is None else selection.clamped,
        "widths": st.widths(plan),
    }


def measure(trained: TrainedRun, selection: Selection | None, split: str = "val") -> tuple[dict, object]:
    """Builds the committed model of a selection (the unpruned one for None), evaluates it: (point, model)."""
    st = trained.structure
    model = pruned_model(trained.model, st, selection.plan if selection is not None else st.empty_plan(),
                         trained.compensation)
    logits, labels = logits_and_labels(model, getattr(trained.data, split))
    accuracy = int((logits.argmax(1) == labels).sum()) / len(labels) if len(labels) else float("nan")
    change = output_change(logits, trained.logits(split))
    params = sum(p.numel() for p in model.parameters())
    return describe_point(trained, selection, accuracy, params, change), model
