"""Accuracy right after pruning (no fine-tuning) at matched FLOPs: our commit vs Torch-Pruning's BNScalePruner.

Run: .venv/bin/python benchmarks/prune_vs_torch_pruning.py
Trains slimnet on mnist5k with an ℓ1 penalty on γ once, then removes 30 / 50 / 70 % of the FLOPs with
  - ours: global |γ| threshold, exact removal (each consumer's response to the removed channels' mean input,
    calibrated on training images: the model `slimcore prune` writes),
  - ours cut outright (the same channels, nothing given back), to show what the compensation buys,
  - Torch-Pruning BNScalePruner, global pruning, its default importance (|γ| normalised by each group's mean)
    and with raw |γ| (normalizer=None), its pruning ratio bisected to the largest that meets the FLOPs budget.
Writes benchmarks/results/prune_vs_torch_pruning.md.
"""
from __future__ import annotations

import copy
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from benchmarks.pruning_common import counted_flops, torch_pruning_at, train, write_result  # noqa: E402
from slimcore.config import TrainConfig  # noqa: E402
from slimcore.pruning.math.cut import cut  # noqa: E402
from slimcore.pruning.math.plan import select_flops  # noqa: E402
from slimcore.pruning.math.rankings import bn_scores  # noqa: E402
from slimcore.analysis.structure import pruned_model  # noqa: E402
from slimcore.pruning.trained import load_trained  # noqa: E402
from slimcore.store import RunStore  # noqa: E402
from slimcore.training.evaluate import evaluate  # noqa: E402

CONFIG = TrainConfig(model="slimnet", dataset="mnist5k", epochs=6, penalty="l1", lam=1e-2,
                     penalty_params={"mode": "subgradient"}, label="bench-l1")
REMOVED = (0.3, 0.5, 0.7)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(tmp)
        run_id = train(store, CONFIG)
        trained = load_trained(store, run_id)
        st, model, data, shape = trained.structure, trained.model, trained.data, trained.input_shape
        base_flops = counted_flops(model, shape)
        base_acc = evaluate(model, data.test)[1]
        scores = bn_scores(model, st.groups)
        rows = []
        for removed in REMOVED:
            sel = select_flops(scores, 1 - removed, st.macs)
            ours = pruned_model(model, st, sel.plan, trained.compensation)
            budget = counted_flops(ours, shape)
            outright = copy.deepcopy(model).eval()
            cut(outright, st.removed(sel.plan))
            row = [f"{removed:.0%}"]
            for m in (ours, outright, torch_pruning_at(model, shape, budget, "mean"),
                      torch_pruning_at(model, shape, budget, None)):
                row.append(f"{evaluate(m, data.test)[1]:.4f} ({counted_flops(m, shape) / base_flops:.1%})")
            rows.append("| " + " | ".join(row) + " |")
            print(rows[-1], flush=True)
    near_zero = float((torch.cat([torch.as_tensor(s) for s in scores]) < 1e-2).double().mean())
    body = (
        f"`{CONFIG.model}` on `{CONFIG.dataset}`, {CONFIG.epochs} epochs, ℓ1 on γ (λ = {CONFIG.lam:g}, subgradient); "
        f"unpruned test accuracy {base_acc:.4f}, {near_zero:.1%} of |γ| < 1e-2. Test accuracy (500 images) right after "
        "pruning, no fine-tuning; in brackets the FLOPs kept, counted by `torch.utils.flop_counter`. Torch-Pruning's "
        "pruning ratio is bisected to the largest whose model fits in our model's FLOPs.\n\n"
        "| FLOPs removed | ours (exact removal) | ours, cut outright | TP BNScalePruner (default, mean-normalised) "
        "| TP BNScalePruner (raw abs γ) |\n|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )
    write_result("prune_vs_torch_pruning.md", "Accuracy after pruning at matched FLOPs: slimcore vs Torch-Pruning",
                 body)


if __name__ == "__main__":
    main()
