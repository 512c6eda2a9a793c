"""Does the default penalty visibly sparsify γ while keeping accuracy? The default run vs other λ and none.

Run: .venv/bin/python benchmarks/default_sparsity.py   (writes benchmarks/results/default_sparsity.md)
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from benchmarks.machine import describe_machine, save_result  # noqa: E402
from slimcore.config import TrainConfig  # noqa: E402
from slimcore.data import load_dataset  # noqa: E402
from slimcore.training import Trainer, evaluate  # noqa: E402
from slimcore.training.snapshots import sparsity_figures  # noqa: E402

DEFAULT = TrainConfig()
SETTINGS = [("none", 0.0, {}), *[(DEFAULT.penalty, lam, DEFAULT.penalty_params) for lam in (5e-3, DEFAULT.lam, 1.5e-2)]]


def main() -> None:
    torch.set_num_threads(1)  # the machine is shared; one thread keeps runs comparable
    data = load_dataset(TrainConfig().dataset)
    rows = []
    for penalty, lam, params in SETTINGS:
        start = time.perf_counter()
        trainer = Trainer(TrainConfig(penalty=penalty, lam=lam, penalty_params=dict(params)), data=data)
        trainer.fit()
        gamma = torch.cat([bn.weight.detach() for bn in trainer.bns]).numpy()
        s = sparsity_figures(gamma)
        acc = evaluate(trainer.model, data.val)[1]
        rows.append(f"| {penalty} {params.get('mode', '')} λ = {lam:g} | {acc:.3f} | {s['sparsity@0']:.1%} | "
                    f"{s['sparsity@0.01']:.1%} | {s['sparsity@0.1']:.1%} | {time.perf_counter() - start:.0f} |")
        print(rows[-1], flush=True)
    text = ("# Default run: sparsity vs accuracy\n\n" f"Machine: {describe_machine()}\n\n"
            "TrainConfig() defaults (slimnet, mnist5k, 4 epochs, seed 0) with the penalty varied; val accuracy; "
            "one torch thread; seconds are wall time on a shared machine.\n\n"
            "| penalty | val acc | \\|γ\\| = 0 | \\|γ\\| < 1e-2 | \\|γ\\| < 0.1 | seconds |\n|---|---|---|---|---|---|\n"
            + "\n".join(rows) + "\n\nRegenerate: `.venv/bin/python benchmarks/default_sparsity.py`\n")
    save_result("default_sparsity.md", text)


if __name__ == "__main__":
    main()
