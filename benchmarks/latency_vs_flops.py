"""Measured CPU latency ratio against FLOPs ratio of pruned models (does removing FLOPs buy time?).

Run: .venv/bin/python benchmarks/latency_vs_flops.py
Trains the default run, prunes it to 90 … 10 % of its FLOPs (|γ| ranking), and times original vs pruned at batch
1 and 64 (median of alternating repeats, `slimcore.pruning.latency`). Adds resnet20 on 3×32×32 inputs with random
weights (latency does not depend on the values). Writes benchmarks/results/latency_vs_flops.md.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from benchmarks.pruning_common import train, write_result  # noqa: E402
from slimcore.config import TrainConfig  # noqa: E402
from slimcore.models import create_model  # noqa: E402
from slimcore.pruning.latency import compare_latency  # noqa: E402
from slimcore.pruning.math.plan import select_flops  # noqa: E402
from slimcore.pruning.math.rankings import bn_scores  # noqa: E402
from slimcore.analysis.structure import analyse, pruned_model  # noqa: E402
from slimcore.pruning.trained import load_trained  # noqa: E402
from slimcore.store import RunStore  # noqa: E402

RATIOS = (0.9, 0.7, 0.5, 0.3, 0.1)


def rows_for(label: str, model: nn.Module, input_shape: tuple[int, int, int]) -> list[str]:
    structure = analyse(model, input_shape)
    scores = bn_scores(model, structure.groups)
    base = structure.macs(structure.empty_plan())
    rows = []
    for ratio in RATIOS:
        sel = select_flops(scores, ratio, structure.macs)
        pruned = pruned_model(model, structure, sel.plan)
        flops = structure.macs(sel.plan) / base
        cells = [label, f"{flops:.1%}"]
        for batch in (1, 64):
            ms = compare_latency({"o": model, "p": pruned}, input_shape, batch, repeats=30, budget_s=30)
            cells += [f"{ms['o']:.3f} → {ms['p']:.3f}", f"{ms['p'] / ms['o']:.1%}"]
        rows.append("| " + " | ".join(cells) + " |")
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(tmp)
        trained = load_trained(store, train(store, TrainConfig(label="bench-default")))
        rows = rows_for("slimnet 1×28×28 (default run)", trained.model, trained.input_shape)
    resnet = create_model("resnet20", 10, 3, 32).eval()
    with torch.no_grad():
        for m in resnet.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.num_features))
    rows += rows_for("resnet20 3×32×32 (random γ)", resnet, (3, 32, 32))
    body = (
        f"{torch.get_num_threads()} torch threads, eval mode, `torch.inference_mode`; milliseconds per forward pass "
        "(median of up to 30 alternating repeats after 3 warm-up passes).\n\n"
        "| model | FLOPs kept | batch 1 ms (orig → pruned) | batch-1 latency kept | batch 64 ms (orig → pruned) "
        "| batch-64 latency kept |\n|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )
    write_result("latency_vs_flops.md", "Latency ratio vs FLOPs ratio of pruned models", body)


if __name__ == "__main__":
    main()
