"""Recovering accuracy after the cut: one-shot vs iterative pruning, plain vs distilled fine-tuning, at the same
total fine-tuning epochs.

Run: .venv/bin/python benchmarks/recovery.py [--seeds 3]
For each run (slimnet on mnist5k with `slimcore train`'s defaults; resnet20 on digits with the same penalty and
epochs), trained once per seed, commits (`slimcore.pruning.commit`, the prune job itself) at 50 % and 30 % of the
FLOPs with 3 fine-tuning epochs in all: one-shot (1 cut, then 3 epochs) or iterative (3 cuts, 1 epoch after
each), plain or distilled from the unpruned model (T = 4, W = 0.9). Reports test accuracy, mean and min–max over
the seeds, beside the unpruned model's and the one-shot cut's before fine-tuning.
Writes benchmarks/results/recovery.md.
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
from slimcore.pruning import FineTuneSettings, PruneSettings, commit  # noqa: E402
from slimcore.store import RunStore  # noqa: E402

RUNS = {
    "slimnet · mnist5k (default run)": dict(model="slimnet", dataset="mnist5k"),
    "resnet20 · digits": dict(model="resnet20", dataset="digits"),
}
TARGETS = (0.5, 0.3)
TOTAL_EPOCHS, CUTS = 3, 3
METHODS = {  # name → (cuts, epochs after each cut, distilled)
    "one-shot plain": (1, TOTAL_EPOCHS, False),
    "one-shot distilled": (1, TOTAL_EPOCHS, True),
    "iterative plain": (CUTS, TOTAL_EPOCHS // CUTS, False),
    "iterative distilled": (CUTS, TOTAL_EPOCHS // CUTS, True),
}


def spread(values: list[float]) -> str:
    """'mean (min–max)' of accuracies, as the table shows them."""
    return f"{statistics.mean(values):.4f} ({min(values):.4f}–{max(values):.4f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    seeds = list(range(args.seeds))
    started = time.perf_counter()
    rows, notes, seconds = [], [], {name: [] for name in METHODS}
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(Path(tmp) / "runs")
        for label, spec in RUNS.items():
            results: dict = {}  # (target, column) → [test accuracy per seed]
            unpruned, flops = [], {}
            for seed in seeds:
                config = TrainConfig(**spec, seed=seed, label=f"bench-recovery-{spec['model']}-{seed}")
                run_id = train(store, config)
                for target in TARGETS:
                    for name, (cuts, epochs, distill) in METHODS.items():
                        t0 = time.perf_counter()
                        report = commit(store, run_id, PruneSettings(
                            flops_ratio=target, steps=cuts, latency_repeats=1, out_dir=str(Path(tmp) / "out"),
                            finetune=FineTuneSettings(epochs=epochs, distill=distill, device="cpu")))
                        seconds[name].append(time.perf_counter() - t0)
                        results.setdefault((target, name), []).append(report["accuracy"])
                        flops.setdefault(target, []).append(report["flops_ratio"])
                        if name == "one-shot plain":
                            results.setdefault((target, "cut"), []).append(report["before_finetune"]["test_accuracy"])
                            if target == TARGETS[0]:
                                unpruned.append(report["base"]["test_accuracy"])
                        print(f"{label} seed {seed} {target:.0%} {name}: test {report['accuracy']:.4f} at "
                              f"{report['flops_ratio']:.1%} FLOPs ({seconds[name][-1]:.1f} s)", flush=True)
            notes.append(f"- {label}: unpruned test accuracy {spread(unpruned)}.")
            for target in TARGETS:
                cells = [label, f"{target:.0%} ({statistics.mean(flops[target]):.1%})", spread(results[(target, 'cut')]),
                         *(spread(results[(target, name)]) for name in METHODS)]
                rows.append("| " + " | ".join(cells) + " |")
                print(rows[-1], flush=True)
    timing = ", ".join(f"{name} {min(s):.1f} s / {statistics.median(s):.1f} s" for name, s in seconds.items())
    d = TrainConfig()
    command = "`.venv/bin/python benchmarks/recovery.py" + (f" --seeds {args.seeds}`" if args.seeds != 3 else "`")
    body = (
        f"Command: {command} ({(time.perf_counter() - started) / 60:.0f} min in all).\n\n"
        f"Each run trained with `slimcore train`'s defaults ({d.penalty} {d.penalty_params.get('mode', '')} penalty, "
        f"λ = {d.lam:g}, {d.epochs} epochs, lr {d.lr:g}, batch {d.batch_size}) for "
        f"seeds {', '.join(map(str, seeds))}; each commit ranks by |γ| (bn) and fine-tunes {TOTAL_EPOCHS} epochs in "
        f"all at lr 0.01, cosine: one-shot = 1 cut then {TOTAL_EPOCHS} epochs; iterative = `--steps {CUTS}`, "
        f"cut k keeping 1 − (1 − R)·k/{CUTS} of the FLOPs, {TOTAL_EPOCHS // CUTS} epoch after each cut; distilled = "
        "`--distill` (T = 4, W = 0.9, the teacher the unpruned model). Test accuracy, mean (min–max) over the "
        "seeds; in the target column the FLOPs kept on average; \"cut\" is the one-shot cut before fine-tuning. "
        "Epoch counts are small so that the benchmark runs on 2 CPU cores.\n\n"
        + "\n".join(notes) + "\n\n| run | FLOPs target (kept) | cut | " + " | ".join(METHODS) + " |\n|"
        + "---|" * (3 + len(METHODS)) + "\n" + "\n".join(rows)
        + f"\n\nSeconds per commit (fine-tuning, evaluation, ONNX export), fastest / median: {timing}. The machine is "
        "shared with other jobs, so the same commit's time varies several-fold: a rough cost, not a comparison.\n"
    )
    write_result("recovery.md", "Recovering accuracy after the cut: one-shot vs iterative, plain vs distilled", body)


if __name__ == "__main__":
    main()
