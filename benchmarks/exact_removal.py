"""Exact removal against the alternatives, side by side on the same trained weights.

Run: .venv/bin/python benchmarks/exact_removal.py [--quick]
For each model (slimnet on mnist5k: the default run; resnet20, densenet40, mobilenetv2 on the 8×8 digits, each
with the default penalty, Tℓ1 proximal), trained once, and for the exact zeros alone and 30 / 50 / 70 % of the
FLOPs removed by the |γ| ranking, the same channels are removed with
  - mean-input: each consumer gets its exact response to the removed channels' mean input over 512 training
    images (what the preview and `slimcore prune` build),
  - exact act(β): the same with the removed channels taken as γ = 0 (their β, carried through every layer),
  - act(β) absorbed: the constant folded into each consumer's bias as if every position read it, given up at adds
    and concatenations (the engine before exact removal),
  - cut outright: nothing put back,
and, at the same FLOPs budget, Torch-Pruning's BNScalePruner (global, its default mean-normalised importance; its
pruning ratio bisected to the largest whose model fits). Reported: test accuracy right after pruning (no
fine-tuning) and `output_change` on val (‖Δlogits‖ / ‖logits‖ against the unpruned network).
Writes benchmarks/results/exact_removal.md.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks.pruning_common import counted_flops, torch_pruning_at, train, write_result  # noqa: E402
from slimcore.analysis.calibration import ExactBetaCompensation  # noqa: E402
from slimcore.analysis.structure import pruned_model  # noqa: E402
from slimcore.config import TrainConfig  # noqa: E402
from slimcore.pruning.math.compensate import BetaAbsorption, NoCompensation  # noqa: E402
from slimcore.pruning.math.plan import select, select_flops  # noqa: E402
from slimcore.pruning.math.rankings import bn_scores  # noqa: E402
from slimcore.pruning.measure import output_change  # noqa: E402
from slimcore.pruning.trained import load_trained  # noqa: E402
from slimcore.store import RunStore  # noqa: E402
from slimcore.training.evaluate import logits_and_labels  # noqa: E402

RUNS = {
    "slimnet (mnist5k, the default run)": TrainConfig(label="bench-exact"),
    "resnet20 (digits)": TrainConfig(model="resnet20", dataset="digits", epochs=10, lam=0.025, label="bench-exact"),
    "densenet40 (digits)": TrainConfig(model="densenet40", dataset="digits", epochs=6, label="bench-exact"),
    "mobilenetv2 (digits)": TrainConfig(model="mobilenetv2", dataset="digits", epochs=10, label="bench-exact"),
}
REMOVED = (0.3, 0.5, 0.7)
METHODS = ("mean-input", "exact act(β)", "act(β) absorbed", "cut outright", "TP BNScalePruner")


def scored(model, trained) -> str:
    """'test accuracy / output change' of a model."""
    with torch.no_grad():
        test_logits, labels = logits_and_labels(model, trained.data.test)
        val_logits, _ = logits_and_labels(model, trained.data.val)
    acc = float((test_logits.argmax(1) == labels).double().mean())
    return f"{acc:.4f} / {output_change(val_logits, trained.logits('val')):.1e}"


def rows_for(label: str, trained) -> tuple[list[str], float]:
    model, st, shape = trained.model, trained.structure, trained.input_shape
    scores = bn_scores(model, st.groups)
    compensations = {"mean-input": trained.compensation, "exact act(β)": ExactBetaCompensation(shape),
                     "act(β) absorbed": BetaAbsorption(st.uses), "cut outright": NoCompensation()}
    base_flops = counted_flops(model, shape)
    zeros = float((np.concatenate(scores) == 0).mean())
    rows = []
    selections = [("exact zeros only", select(scores, 1e-30))] + [
        (f"{r:.0%}", select_flops(scores, 1 - r, st.macs)) for r in REMOVED]
    for target, sel in selections:
        if sel.removed == 0:
            rows.append(f"| {label} | {target} | nothing to remove | | | | | |")
            print(rows[-1], flush=True)
            continue
        cells = []
        for compensation in compensations.values():
            pruned = pruned_model(model, st, sel.plan, compensation)
            cells.append(scored(pruned, trained))
        budget = counted_flops(pruned, shape)
        cells.append(scored(torch_pruning_at(model, shape, budget, iterations=12), trained) if target != "exact zeros only" else "")
        rows.append(f"| {label} | {target} | {budget / base_flops:.1%} | " + " | ".join(cells) + " |")
        print(rows[-1], flush=True)
    return rows, zeros


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="slimnet and resnet20 only")
    args = parser.parse_args()
    runs = dict(list(RUNS.items())[:2]) if args.quick else RUNS
    rows, notes = [], []
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(tmp)
        for label, config in runs.items():
            started = time.perf_counter()
            trained = load_trained(store, train(store, config))
            base = scored(trained.model, trained).split(" / ")[0]
            new_rows, zeros = rows_for(label, trained)
            rows += new_rows
            notes.append(f"- {label}: {config.penalty} (λ = {config.lam if config.lam is not None else 'default'}), "
                         f"{config.epochs} epochs; unpruned test accuracy {base}; {zeros:.0%} of γ exactly 0; "
                         f"{time.perf_counter() - started:.0f} s")
    body = (
        "Each cell: test accuracy right after pruning (no fine-tuning) / `output_change` on val (relative change "
        "of the logits against the unpruned network). The same channels (the |γ| ranking's) are removed in the "
        "four slimcore columns; Torch-Pruning chooses its own at the same FLOPs budget. FLOPs kept counted by "
        "`torch.utils.flop_counter`.\n\n" + "\n".join(notes) + "\n\n"
        "| model | FLOPs removed | FLOPs kept | " + " | ".join(METHODS) + " |\n|---|---|---|" + "---|" * len(METHODS)
        + "\n" + "\n".join(rows) + "\n"
    )
    write_result("exact_removal.md", "Exact removal vs act(β) absorption, an outright cut and Torch-Pruning", body)


if __name__ == "__main__":
    main()
