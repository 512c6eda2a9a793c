"""Two processes under torchrun (gloo, CPU) against one, same global batch: how close the results are.

Run: .venv/bin/python -m benchmarks.ddp_vs_single   (writes benchmarks/results/ddp_vs_single.md)

The same `slimcore train` command (slimnet on digits, 2 epochs, batch 64, seed 3: the settings of
tests/test_distributed.py) once as one process and once as `torchrun --nproc_per_node 2`; reported are both
val accuracies and the relative L2 distance between the final weights. Each process keeps its own BatchNorm
statistics, so the two differ slightly; the test allows 4 points and 10 %.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.machine import describe_machine, save_result
from slimcore.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["train", "--dataset", "digits", "--epochs", "2", "--batch-size", "64", "--seed", "3"]


def train(runs: Path, processes: int) -> tuple[float, dict]:
    """(val accuracy, final weights) of the run the command leaves in `runs`."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    launcher = ([str(Path(sys.executable).with_name("torchrun")), "--standalone", "--nproc_per_node", str(processes)]
                if processes > 1 else [sys.executable])
    subprocess.run([*launcher, "-m", "slimcore", *ARGS, "--runs-dir", str(runs)], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    store = RunStore(runs)
    run = store.list_runs()[0]
    weights = torch.load(store.run_dir(run["id"]) / "last.pt", weights_only=True)["model"]
    return run["summary"]["val_accuracy"], weights


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        one_acc, one = train(Path(tmp) / "one", 1)
        two_acc, two = train(Path(tmp) / "two", 2)
    keys = [k for k in one if one[k].is_floating_point()]
    distance = float(sum(((one[k] - two[k]) ** 2).sum() for k in keys).sqrt()
                     / sum((one[k] ** 2).sum() for k in keys).sqrt())
    text = "\n".join([
        "# Two processes (torchrun, gloo) against one",
        "",
        f"Measured by `python -m benchmarks.ddp_vs_single` on {time.strftime('%Y-%m-%d %H:%M')}.",
        "",
        f"- machine: {describe_machine()}",
        f"- command: `slimcore {' '.join(ARGS)}`, as one process and under `torchrun --nproc_per_node 2`",
        "",
        "| | val accuracy |",
        "|---|---:|",
        f"| one process | {one_acc:.3f} |",
        f"| two processes | {two_acc:.3f} |",
        "",
        f"Difference: {abs(one_acc - two_acc) * 100:.1f} points (the test allows 4); relative L2 distance between "
        f"the final weights: {distance:.1%} (allowed 10 %).",
        "",
    ])
    save_result("ddp_vs_single.md", text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
