"""Whether a training run did what a user wants from it, read off its summary: a run can finish and still have
collapsed (nearly every γ at zero, accuracy near chance), exploded (loss or γ out of all proportion) or
sparsified nothing (no γ near zero, so the threshold can only cut channels that matter), or not learned the task
at all. Each finding says what to change."""
from __future__ import annotations

import math

NEAR_ZERO = "sparsity@0.01"  # the summary's share of |γ| < 1e-2
COLLAPSED_SHARE = 0.95  # this share of γ near zero leaves no network
CHANCE_FACTOR = 1.5  # val accuracy under this many times chance has lost the task
EXPLODED_LOSS = 50.0  # cross-entropy; an untrained net starts near ln(classes), 2.3 for ten
EXPLODED_GAMMA = 100.0  # γ starts at 1 (BN's init); this far means the penalty or the lr ran away


def assess(summary: dict, config: dict, status: str) -> list[dict]:
    """[{"problem", "message"}] for a training run (empty when it looks healthy or has no epoch yet)."""
    if not summary or summary.get("val_accuracy") is None:
        return []
    lam, lr = config.get("lam") or 0.0, config.get("lr") or 0.0
    found = []
    loss, gamma = summary.get("train_loss"), summary.get("gamma_max")
    show = lambda v: "?" if v is None else f"{v:.3g}"  # noqa: E731
    if (loss is not None and (not math.isfinite(loss) or loss > EXPLODED_LOSS)) or \
            (gamma is not None and gamma > EXPLODED_GAMMA):
        return [{"problem": "exploded", "message":
                 f"training exploded (train loss {show(loss)}, largest |γ| {show(gamma)}): lower λ (now {lam:g}) "
                 f"or the learning rate (now {lr:g}), or use proximal mode, whose step cannot overshoot."}]
    near, classes = summary.get(NEAR_ZERO), summary.get("num_classes") or 10
    acc = summary["val_accuracy"]
    if near is not None and near >= COLLAPSED_SHARE:
        found.append({"problem": "collapsed", "message":
                      f"the run collapsed ({near:.0%} of γ below 1e-2, val accuracy {acc:.1%} against chance "
                      f"{1 / classes:.0%}): the penalty won over the task; lower λ (now {lam:g}) about tenfold."})
    elif acc < CHANCE_FACTOR / classes and config.get("epochs") == 0:  # imported weights, nothing trained here
        found.append({"problem": "not learning", "message":
                      f"the imported weights score {acc:.1%} on val, near chance ({1 / classes:.0%}): check that the "
                      "architecture, the data set and its class order are the ones they were trained with."})
    elif acc < CHANCE_FACTOR / classes:
        found.append({"problem": "not learning", "message":
                      f"val accuracy {acc:.1%} is near chance ({1 / classes:.0%}) with most γ alive: the network "
                      f"has not learned the task; train longer, or check the learning rate (now {lr:g}) and the "
                      "data."})
    if status == "finished" and config.get("penalty") not in (None, "none") and near is not None and near == 0:
        found.append({"problem": "sparsified nothing", "message":
                      f"no γ reached 1e-2: the penalty (λ = {lam:g}) moved nothing far enough, so a threshold "
                      "can only cut channels that matter; raise λ (about threefold) or train longer."})
    return found


def divergence_message(lr: float, lam: float, step: int) -> str:
    """What a run whose loss became NaN/inf says (it ends `diverged`)."""
    return (f"loss became NaN/inf at step {step}: lower the learning rate (--lr, now {lr:g}) "
            f"or the penalty weight (--lam, now {lam:g}); the last good checkpoint is kept.")
