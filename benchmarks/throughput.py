"""Training throughput: our loop (penalty, γ snapshots, run store) against a bare PyTorch loop, same batches.

Run: .venv/bin/python -m benchmarks.throughput            (writes benchmarks/results/throughput.md)

On a CPU: the default model on the embedded data. On a CUDA GPU, also VGG-19 and ResNet-56 at CIFAR size on
synthetic CIFAR-shaped data, with and without AMP and channels_last. Each figure is train images per second over
the second epoch and its validation pass (the first epoch warms up kernels and caches); the bare loop is plain SGD + cross-entropy over the very
same index batches, with the same AMP/channels_last settings. Target: ours ≥ 95 % of the bare loop.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from benchmarks.machine import describe_machine, save_result
from slimcore.config import TrainConfig
from slimcore.data import load_dataset
from slimcore.devices import choose_device
from slimcore.models import create_model
from slimcore.store import RunStore
from slimcore.training.batches import epoch_batches, iterate_batches, resident_on
from slimcore.training.evaluate import evaluate
from slimcore.training.events import Observer
from slimcore.training.observers import StoreRecorder
from slimcore.training.trainer import Trainer

TARGET = 0.95


class EpochTimes(Observer):
    """Clock readings at each epoch end (after its validation pass)."""

    def __init__(self, clock) -> None:
        self.clock = clock
        self.marks: list[float] = []

    def on_epoch_end(self, trainer, info) -> None:
        self.marks.append(self.clock())


def ours(config: TrainConfig, data, clock) -> float:
    """Train images/s over our Trainer's second epoch and its validation pass, into a throw-away run store."""
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(Path(tmp) / "runs")
        run_id = store.create_run(config.to_dict(), label="throughput")
        times = EpochTimes(clock)
        trainer = Trainer(config, observers=[StoreRecorder(store, run_id), times], data=data)
        trainer.fit()
        store.close()
    return len(data.train) / (times.marks[-1] - times.marks[-2])


def bare(config: TrainConfig, data, clock) -> float:
    """The same for a plain loop: forward, cross-entropy, backward, SGD step; then the validation pass."""
    device = choose_device(config.device)
    torch.manual_seed(config.seed)
    model = create_model(config.model, data.num_classes, data.in_channels, data.image_size).to(device)
    cuda = device.type == "cuda"
    if cuda and config.channels_last:
        model.to(memory_format=torch.channels_last)
    amp_dtype = None
    if cuda and config.amp:
        amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
    opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                          weight_decay=config.weight_decay)
    train = resident_on(data.train, device)
    marks = []
    for epoch in range(2):
        batches = epoch_batches(len(train), config.batch_size, config.seed, epoch)
        for x, y in iterate_batches(train, batches, device):
            if cuda and config.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            ctx = torch.autocast("cuda", dtype=amp_dtype) if amp_dtype else contextlib.nullcontext()
            with ctx:
                loss = F.cross_entropy(model(x).float(), y)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        evaluate(model, data.val, device)
        if cuda:
            torch.cuda.synchronize()
        marks.append(clock())
    return len(train) / (marks[-1] - marks[-2])


def compare(config: TrainConfig, data, rounds: int, clock) -> tuple[float, float]:
    """Median images/s of (ours, bare) over interleaved rounds (the machine may be shared)."""
    a, b = [], []
    for _ in range(rounds):
        a.append(ours(config, data, clock))
        b.append(bare(config, data, clock))
    return statistics.median(a), statistics.median(b)


def row(name: str, config: TrainConfig, ours_ips: float, bare_ips: float, epoch_images: int, cuda: bool) -> str:
    ratio = ours_ips / bare_ips

    def flag(on: bool) -> str:  # AMP and channels_last apply on CUDA only
        return ("on" if on else "off") if cuda else "n/a (CPU)"

    return (f"| {name} | {config.batch_size} | {flag(config.amp)} | {flag(config.channels_last)} | "
            f"{bare_ips:,.0f} | {ours_ips:,.0f} | "
            f"{epoch_images / ours_ips:.2f} s | {ratio:.1%} | {'met' if ratio >= TARGET else 'missed'} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved repetitions per setting")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: all cores)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cuda = torch.cuda.is_available()
    # On a GPU, wall time (the GPU does the work). On a CPU, process CPU time with one thread: other jobs on a
    # shared machine then slow both loops alike instead of whichever happened to run during a burst.
    clock = time.perf_counter if cuda else time.process_time
    clock_name = "wall time" if cuda else "process CPU time"
    header = ["| setting | batch | AMP | channels_last | bare loop img/s | ours img/s | our epoch + val | ours / bare | "
              "≥ 95 % |", "|---|---:|---|---|---:|---:|---:|---:|---|"]
    rows = []
    # The default model on the embedded data: the demo every user runs first.
    default = TrainConfig(epochs=2)
    data = load_dataset(default.dataset)
    o, b = compare(default, data, args.rounds, clock)
    device = "GPU" if cuda else "CPU"
    rows.append(row(f"{default.model} on {default.dataset} ({device}, default penalty)", default, o, b,
                    len(data.train), cuda))
    print(rows[-1], flush=True)
    if cuda:
        synthetic = load_dataset("synthetic")
        for model in ("vgg19", "resnet56"):
            for amp, channels_last in ((False, False), (True, False), (True, True)):
                cfg = TrainConfig(model=model, dataset="synthetic", epochs=2, batch_size=128, amp=amp,
                                  channels_last=channels_last, penalty="l1", lam=1e-4,
                                  penalty_params={"mode": "subgradient"})
                o, b = compare(cfg, synthetic, args.rounds, clock)
                rows.append(row(f"{model}, CIFAR-shaped synthetic (GPU, ℓ1)", cfg, o, b, len(synthetic.train), cuda))
                print(rows[-1], flush=True)
    gpu_note = ("" if cuda else "No GPU on this machine, so only the CPU row: run the same command on a CUDA "
                "machine to add VGG-19 and ResNet-56 at CIFAR size with and without AMP / channels_last.\n\n")
    text = "\n".join([
        "# Training throughput: our loop vs a bare PyTorch loop",
        "",
        f"Measured by `python -m benchmarks.throughput` on {time.strftime('%Y-%m-%d %H:%M')}.",
        "",
        f"- machine: {describe_machine()}",
        f"- torch threads: {torch.get_num_threads()}; load average (1 min) at the end: {os.getloadavg()[0]:.2f}",
        f"- each figure: median over {args.rounds} interleaved rounds of train images per second of {clock_name} "
        "over the second epoch and its validation pass (the first warms up); ours includes the penalty, γ "
        "snapshots every 10 steps and every metric written to a SQLite run store",
        "",
        *header,
        *rows,
        "",
        gpu_note + "Regenerate: `.venv/bin/python -m benchmarks.throughput`",
        "",
    ])
    save_result("throughput.md", text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
