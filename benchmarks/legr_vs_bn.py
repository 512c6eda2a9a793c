"""LeGR's learned ranking against |γ| and the filter-norm baseline, at matched FLOPs, before fine-tuning.

Run: .venv/bin/python benchmarks/legr_vs_bn.py
Trains the default run and an ℓ1 run (λ = 1e-2, 6 epochs) of slimnet on mnist5k, runs the LeGR search with its
defaults on each (timed; candidates scored on a tenth of the training images held out from its fine-tuning steps),
and reports val accuracy, which the search never saw, at 70 / 50 / 30 % FLOPs kept for bn, l1norm and legr.
Writes benchmarks/results/legr_vs_bn.md.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.pruning_common import train, write_result  # noqa: E402
from slimcore.config import TrainConfig  # noqa: E402
from slimcore.pruning import preview_at, search_legr  # noqa: E402
from slimcore.pruning.settings import LegrSettings  # noqa: E402

LEGR_DEFAULTS = LegrSettings().to_dict()
from slimcore.store import RunStore  # noqa: E402

CONFIGS = {
    "default run (tl1 proximal, λ = 0.01, 4 epochs)": TrainConfig(label="bench-default"),
    "ℓ1 run (λ = 1e-2, 6 epochs)": TrainConfig(epochs=6, penalty="l1", lam=1e-2, penalty_params={"mode": "subgradient"},
                                               label="bench-l1"),
}
KEPT = (0.7, 0.5, 0.3)


def main() -> None:
    rows, notes = [], []
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(tmp)
        for label, config in CONFIGS.items():
            run_id = train(store, config)
            result = search_legr(store, run_id)
            notes.append(f"- {label}: LeGR search {result['evaluated']} candidates in {result['seconds']} s; fitness "
                         f"({result['scored_on']}: accuracy after pruning to {LEGR_DEFAULTS['flops_ratio']:.0%} FLOPs and "
                         f"{LEGR_DEFAULTS['steps']} fine-tuning steps) {result['fitness']:.4f} vs "
                         f"{result['identity_fitness']:.4f} for plain |γ| (α = 1, κ = 0).")
            print(notes[-1], flush=True)
            for kept in KEPT:
                cells = [label, f"{kept:.0%}"]
                for ranking in ("bn", "l1norm", "legr"):
                    p = preview_at(store, run_id, ranking, flops_ratio=kept)
                    cells.append(f"{p['accuracy']:.4f} ({p['flops_ratio']:.1%})")
                rows.append("| " + " | ".join(cells) + " |")
                print(rows[-1], flush=True)
    body = (
        "`slimnet` on `mnist5k`; val accuracy right after pruning (no fine-tuning), in brackets the FLOPs kept. "
        f"LeGR defaults: {', '.join(f'{k}={v}' for k, v in LEGR_DEFAULTS.items())}.\n\n"
        + "\n".join(notes) + "\n\n| run | FLOPs target | bn | l1norm | legr |\n|---|---|---|---|---|\n"
        + "\n".join(rows) + "\n\nLeGR's fitness includes the short fine-tuning, so its ranking is chosen for "
        "accuracy *after* a little fine-tuning; the columns here are before any. The search scored its candidates "
        "on held-out training images, so these val figures are not the numbers it maximised (an unbiased curve).\n"
    )
    write_result("legr_vs_bn.md", "LeGR vs |γ| vs filter norm at matched FLOPs", body)


if __name__ == "__main__":
    main()
