"""Cost of the per-group sensitivity scan against the same number of plain evaluations of the unpruned model.

Run: .venv/bin/python benchmarks/sensitivity_cost.py [--repeats 3]
Trains the default run (TrainConfig() defaults), then times `scan_sensitivity(..., recompute=True)` (every group ×
0.1 … 0.9 removed: the unpruned model and each distinct cut built for real and evaluated on the val split) and as
many `evaluate` passes of the unpruned model, alternately, in one process. Writes
benchmarks/results/sensitivity_cost.md.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.pruning_common import train, write_result  # noqa: E402
from slimcore.config import TrainConfig  # noqa: E402
import torch  # noqa: E402

from slimcore.analysis.structure import pruned_model  # noqa: E402
from slimcore.pruning.scoring import ranking_scores  # noqa: E402
from slimcore.pruning.sensitivity import (accuracy_drops, removed_count, scan_sensitivity,  # noqa: E402
                                          single_group_selection)
from slimcore.pruning.settings import SensitivitySettings  # noqa: E402
from slimcore.pruning.trained import load_trained  # noqa: E402
from slimcore.store import RunStore  # noqa: E402
from slimcore.training.evaluate import evaluate, logits_and_labels  # noqa: E402

THREADS = 1  # one torch thread: on a shared 2-core machine, two threads mostly wait for each other


def interleaved(store: RunStore, trained, settings: SensitivitySettings, rounds: int = 3) -> dict[str, float]:
    """Seconds summed over the scan's cuts, each the fastest of `rounds`: building the cut, evaluating it, and one
    plain evaluation of the unpruned model timed right after it (so load drift hits both alike)."""
    scores, _ = ranking_scores(store, trained, settings.ranking)
    st = trained.structure
    cuts = [(i, r) for i, g in enumerate(st.groups) for r in sorted({removed_count(s, g.width) for s in settings.shares}
                                                                     - {0})]
    best = {cut: [float("inf")] * 3 for cut in cuts}
    for _ in range(rounds):
        for cut in cuts:
            t0 = time.perf_counter()
            model = pruned_model(trained.model, st, single_group_selection(scores, *cut).plan, trained.compensation)
            t1 = time.perf_counter()
            logits_and_labels(model, trained.data.val)
            t2 = time.perf_counter()
            evaluate(trained.model, trained.data.val)
            t3 = time.perf_counter()
            best[cut] = [min(a, b) for a, b in zip(best[cut], (t1 - t0, t2 - t1, t3 - t2))]
    return {k: sum(v[j] for v in best.values()) for j, k in enumerate(("build", "evaluate_cut", "plain"))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(THREADS)
    config = TrainConfig(label="bench-default")
    settings = SensitivitySettings(recompute=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(tmp)
        run_id = train(store, config)
        trained = load_trained(store, run_id)
        scan = scan_sensitivity(store, run_id, settings)  # warm-up (and the first, stored computation)
        evaluations = scan["evaluations"]
        plain, scanned = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            for _ in range(evaluations):
                evaluate(trained.model, trained.data.val)
            plain.append(time.perf_counter() - start)
            start = time.perf_counter()
            scan = scan_sensitivity(store, run_id, settings)
            scanned.append(time.perf_counter() - start)
            print(f"plain {plain[-1]:.2f} s, scan {scanned[-1]:.2f} s", flush=True)
        parts = interleaved(store, trained, settings)
        start = time.perf_counter()
        cached = scan_sensitivity(store, run_id, settings.replace(recompute=False))
        lookup = time.perf_counter() - start
    p, s = statistics.median(plain), statistics.median(scanned)
    fastest = min(scanned) / min(plain)
    cells = len(scan["groups"]) * len(scan["shares"])
    drops = accuracy_drops(scan)
    rows = "\n".join(f"| {g} ({w['width']}) | " + " | ".join(f"{d:+.3f}" for d in row) + " |"
                     for g, w, row in zip(drops["groups"], scan["groups"], drops["drops"]))
    body = (
        f"Default run (`{config.model}` on `{config.dataset}`, {config.epochs} epochs, {config.penalty}), val split of "
        f"{len(trained.data.val)} images, |γ| ranking, shares 0.1 … 0.9, {THREADS} torch thread; {args.repeats} "
        "alternating repeats in one process. The machine is shared with other jobs, so the fastest repeat (the "
        "least disturbed) is shown beside the median.\n\n"
        "| what | median s | fastest s |\n|---|---|---|\n"
        f"| {evaluations} plain evaluation passes of the unpruned model | {p:.2f} | {min(plain):.2f} |\n"
        f"| `scan_sensitivity` ({len(scan['groups'])} groups × {len(scan['shares'])} shares = {cells} cells; "
        f"{evaluations} evaluations: the unpruned model + {evaluations - 1} distinct cuts, each built and evaluated) "
        f"| {s:.2f} | {min(scanned):.2f} |\n"
        f"| `scan_sensitivity` again (served from the run store) | {lookup:.4f} | |\n\n"
        f"Ratio scan / plain = **{s / p:.2f}×** (medians; fastest runs: {fastest:.2f}×; per repeat: "
        + ", ".join(f"{b / a:.2f}×" for a, b in zip(plain, scanned)) + "). Each cut prunes a single group, so the models are nearly as large as "
        "the unpruned one; the difference is the cost of building each cut (absorb + cut + compensation) less what "
        f"the smaller layer saves. Cached read returned `cached: {cached['cached']}`.\n\n"
        "The same cuts timed piece by piece, each piece the fastest of 3 rounds, a plain evaluation right after each "
        "cut (robust to load drift):\n\n| piece | seconds, summed over the cuts |\n|---|---|\n"
        f"| building the {evaluations - 1} cuts (absorb, cut, compensate) | {parts['build']:.2f} |\n"
        f"| evaluating the {evaluations - 1} cuts on val | {parts['evaluate_cut']:.2f} |\n"
        f"| {evaluations - 1} plain evaluations of the unpruned model | {parts['plain']:.2f} |\n\n"
        f"Ratio (build + evaluate) / plain = **{(parts['build'] + parts['evaluate_cut']) / parts['plain']:.2f}×**.\n\n"
        "Val accuracy drop (unpruned − pruned) when only that group is pruned:\n\n"
        "| group (width) | " + " | ".join(f"{x:.0%}" for x in drops["shares"]) + " |\n|---|"
        + "---|" * len(drops["shares"]) + "\n" + rows + "\n"
    )
    write_result("sensitivity_cost.md", "Cost of the per-group sensitivity scan", body)


if __name__ == "__main__":
    main()
