"""How a channel read by several BNs is scored: the largest |γ| (bn), the mean (bn-mean) or the sum (bn-sum).

Run: .venv/bin/python benchmarks/tied_channels.py
DenseNet-40 concatenates every layer's output into the input of all later layers of its block, so most of its
channel groups span several BNs (each reader normalises the same channels with its own γ). Trained once on the
8×8 digits with the default penalty; then, at 30 / 50 / 70 % of the FLOPs removed, the val accuracy right after
pruning (no fine-tuning, exact removal) and the channels removed under each aggregation; and how far each
aggregation's selection is from the first seed's per-BN reading (a channel is removable when most of its BNs
scale it down). Writes benchmarks/results/tied_channels.md.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.pruning_common import train, write_result  # noqa: E402
from slimcore.config import TrainConfig  # noqa: E402
from slimcore.pruning.math.plan import select_flops  # noqa: E402
from slimcore.pruning.math.rankings import RANKINGS  # noqa: E402
from slimcore.pruning.measure import measure  # noqa: E402
from slimcore.pruning.trained import load_trained  # noqa: E402
from slimcore.store import RunStore  # noqa: E402

CONFIG = TrainConfig(model="densenet40", dataset="digits", epochs=6, label="bench-tied")
AGGREGATIONS = ("bn", "bn-mean", "bn-sum")
REMOVED = (0.3, 0.5, 0.7)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(tmp)
        trained = load_trained(store, train(store, CONFIG))
        st = trained.structure
        spans = [len(g.bns) for g in st.groups]
        base, _ = measure(trained, None)
        rows, best = [], []
        for removed in REMOVED:
            cells, accs = [], []
            for name in AGGREGATIONS:
                scores = RANKINGS.get(name)().scores(trained.model, st.groups)
                sel = select_flops(scores, 1 - removed, st.macs)
                point, _ = measure(trained, sel)
                accs.append(point["accuracy"])
                cells.append(f"{point['accuracy']:.4f} ({point['flops_ratio']:.1%}, {sel.removed} ch, "
                             f"Δ out {point['output_change']:.2f})")
            best.append(f"{AGGREGATIONS[int(np.argmax(accs))]} at {removed:.0%}")
            rows.append(f"| {removed:.0%} | " + " | ".join(cells) + " |")
            print(rows[-1], flush=True)
    body = (
        f"`{CONFIG.model}` on `{CONFIG.dataset}`, {CONFIG.epochs} epochs, {CONFIG.penalty} proximal, λ = "
        f"{CONFIG.lam:g}; unpruned val accuracy {base['accuracy']:.4f}. {sum(1 for s in spans if s > 1)} of "
        f"{len(spans)} channel groups span more than one BN (median {int(np.median(spans))}, at most "
        f"{max(spans)}). Each cell: val accuracy right after pruning (no fine-tuning) to at most the FLOPs target, "
        "in brackets the FLOPs kept, the channels removed and `output_change`.\n\n"
        "| FLOPs removed | bn (max \\|γ\\|) | bn-mean | bn-sum |\n|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"Best before fine-tuning: {', '.join(best)}. "
        "The max keeps a channel while any reader still scales it up (a removed channel is then nearly constant "
        "for every reader); the mean and the sum let most readers outvote one; the sum also favours channels many "
        "layers read (early ones in a block), the mean does not.\n"
    )
    write_result("tied_channels.md", "Tied channels: max, mean or sum of |γ| over the BNs that read them", body)


if __name__ == "__main__":
    main()
