"""Cost of live γ capture: one epoch of the default model with vs without snapshots + store writes.

Run: .venv/bin/python benchmarks/snapshot_overhead.py [--repeats 5]
Writes benchmarks/results/snapshot_overhead.md.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.machine import describe_machine, save_result  # noqa: E402
from slimcore.config import TrainConfig  # noqa: E402
from slimcore.data import load_dataset  # noqa: E402
from slimcore.jobs import create_run  # noqa: E402
from slimcore.store import RunStore  # noqa: E402
from slimcore.training import Trainer  # noqa: E402
from slimcore.training.observers import StoreRecorder  # noqa: E402


def one_epoch(config: TrainConfig, data, record: bool) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        observers = []
        if record:
            store = RunStore(tmp)
            observers = [StoreRecorder(store, create_run(store, config))]
        trainer = Trainer(config, observers=observers, data=data)
        # CPU time of this process, one thread: robust to other load on a shared 2-core machine
        start = time.process_time()
        trainer.fit()
        return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    base = TrainConfig(epochs=1, penalty="none", penalty_params={}, lam=0.0)
    data = load_dataset(base.dataset)
    with_capture = base.replace(snapshot_every=10)
    without = base.replace(snapshot_every=10**6)
    one_epoch(without, data, record=False)  # warm-up
    plain, captured = [], []
    for _ in range(args.repeats):  # alternate so drift hits both sides alike
        plain.append(one_epoch(without, data, record=False))
        captured.append(one_epoch(with_capture, data, record=True))
    p, c = statistics.median(plain), statistics.median(captured)
    overhead = (c - p) / p
    steps = len(data.train) // base.batch_size + 1
    text = (
        "# Live γ snapshot overhead\n\n"
        f"Machine: {describe_machine()}\n\n"
        f"Default model (`{base.model}`) on `{base.dataset}`, one epoch ({steps} steps, batch {base.batch_size}), "
        f"no penalty, one torch thread, process CPU time (robust to other load), median of {args.repeats} alternating runs.\n\n"
        "| setting | epoch CPU time (s) |\n|---|---|\n"
        f"| no capture, no store | {p:.2f} |\n"
        f"| γ/β snapshot every 10 steps + metrics + heartbeat into the SQLite store | {c:.2f} |\n\n"
        f"**Overhead: {overhead:+.1%}** (target ≤ 3 %). All runs: plain {[round(x, 2) for x in plain]}, "
        f"captured {[round(x, 2) for x in captured]}.\n\n"
        "Regenerate: `.venv/bin/python benchmarks/snapshot_overhead.py`\n"
    )
    save_result("snapshot_overhead.md", text)
    print(text)


if __name__ == "__main__":
    main()
