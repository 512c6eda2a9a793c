"""Cost of each penalty per training step, relative to no penalty, on the default model on this CPU.

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/penalty_overhead.py [--rounds 7] [--steps 40]
Writes benchmarks/results/penalty_overhead.md.

Each setting gets its own Trainer (so setup, optimizer groups and the penalty's state are the real ones) and runs
the training loop's step body exactly as Trainer.fit does (forward, backward, after_backward, optimizer step,
after_step, scheduler). Settings are interleaved with the unpenalised run in rounds (none, l1, none, l1 prox, ...)
and timed by process CPU time with one torch thread, so other load on a shared machine hits both sides of a pair
alike. Two figures per penalty: the paired overhead of the whole step (median over rounds of penalised / adjacent
unpenalised − 1), and the CPU time spent inside the penalty's own hooks (after_backward + after_step) divided by
the unpenalised step time, which is the same quantity measured directly and without the noise of a difference.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from benchmarks.machine import describe_machine, save_result  # noqa: E402
from slimcore.config import TrainConfig  # noqa: E402
from slimcore.data import load_dataset  # noqa: E402
from slimcore.training import Trainer  # noqa: E402
from slimcore.training.batches import epoch_batches, iterate_batches  # noqa: E402

# (label, penalty, λ, params, target): λ as chosen in benchmarks/results/penalty_claims.md; the hooks' cost does
# not depend on it (λ = 0 would skip them, so it is never used here). lp with p = 3/4 has no closed-form prox
# (Newton iterations), so it is timed too.
SETTINGS = [
    ("l1 subgradient", "l1", 0.015, {"mode": "subgradient"}, 0.03),
    ("l1 proximal", "l1", 0.01, {"mode": "proximal"}, 0.03),
    ("lp p=1/2 subgradient", "lp", 0.01, {"p": 0.5, "mode": "subgradient"}, 0.03),
    ("lp p=1/2 proximal", "lp", 0.01, {"p": 0.5, "mode": "proximal"}, 0.03),
    ("lp p=3/4 proximal (Newton root)", "lp", 0.01, {"p": 0.75, "mode": "proximal"}, 0.03),
    ("tl1 a=1 subgradient", "tl1", 0.01, {"a": 1.0, "mode": "subgradient"}, 0.03),
    ("tl1 a=1 proximal", "tl1", 0.01, {"a": 1.0, "mode": "proximal"}, 0.03),
    ("ista (defaults)", "ista", 0.03, {}, 0.03),
    ("tpp (defaults, ratio 0.5)", "tpp", 1.0, {}, 0.20),
]


class Timed:
    """One setting's Trainer, stepped by hand exactly as Trainer.fit steps it, with its hooks timed."""

    def __init__(self, config: TrainConfig, data, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
        self.trainer = Trainer(config, data=data)
        self.trainer.model.train()
        self.batches = batches
        self.cursor = 0
        self.hook_seconds = 0.0

    def run(self, steps: int) -> tuple[float, float]:
        """(CPU seconds of `steps` steps, CPU seconds of them inside the penalty hooks)."""
        tr = self.trainer
        net = getattr(tr, "net", tr.model)
        hooks = 0.0
        start = time.process_time()
        for _ in range(steps):
            x, y = self.batches[self.cursor % len(self.batches)]
            self.cursor += 1
            lr = tr.optimizer.param_groups[0]["lr"]
            tr.ctx.step, tr.ctx.epoch, tr.ctx.lr = tr.step, tr.epoch, lr
            logits = net(x)
            loss = F.cross_entropy(logits.float(), y)
            tr.optimizer.zero_grad(set_to_none=True)
            tr.scaler.scale(loss).backward()
            tr.scaler.unscale_(tr.optimizer)
            h0 = time.process_time()
            tr.penalty.after_backward(tr.model, tr.ctx)
            hooks += time.process_time() - h0
            tr.scaler.step(tr.optimizer)
            tr.scaler.update()
            h0 = time.process_time()
            tr.penalty.after_step(tr.model, tr.ctx)
            hooks += time.process_time() - h0
            tr.scheduler.step()
            tr.step += 1
        total = time.process_time() - start
        if not torch.isfinite(loss):
            raise SystemExit(f"{tr.config.penalty}: loss became non-finite while timing; lower its λ")
        return total, hooks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=40, help="steps per timed block (63 = one epoch)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    wall = time.perf_counter()
    base = TrainConfig()
    data = load_dataset(base.dataset)
    device = torch.device("cpu")
    batches = list(iterate_batches(data.train, epoch_batches(len(data.train), base.batch_size, 0, 0), device))
    # the epochs only set the cosine schedule's length; keep lr from reaching 0 over all the timed steps
    epochs = max(base.epochs, (args.rounds + 1) * args.steps // len(batches) + 2)
    none = Timed(base.replace(penalty="none", lam=0.0, penalty_params={}, epochs=epochs), data, batches)
    timed = {label: Timed(base.replace(penalty=pen, lam=lam, penalty_params=dict(params), epochs=epochs), data, batches)
             for label, pen, lam, params, _ in SETTINGS}
    none.run(args.steps)  # warm-up: allocator, autograd graph caches
    for t in timed.values():
        t.run(max(5, args.steps // 4))
    plain: list[float] = []
    ratios: dict[str, list[float]] = {label: [] for label in timed}
    step_ms: dict[str, list[float]] = {label: [] for label in timed}
    hook_ms: dict[str, list[float]] = {label: [] for label in timed}
    for r in range(args.rounds):
        for label, t in timed.items():
            p, _ = none.run(args.steps)
            s, h = t.run(args.steps)
            plain.append(p / args.steps * 1e3)
            step_ms[label].append(s / args.steps * 1e3)
            hook_ms[label].append(h / args.steps * 1e3)
            ratios[label].append(s / p - 1.0)
        print(f"round {r + 1}/{args.rounds}: none {statistics.median(plain):.2f} ms/step", flush=True)
    base_ms = statistics.median(plain)
    rows = []
    for label, pen, lam, params, target in SETTINGS:
        over = statistics.median(ratios[label])
        q = statistics.quantiles(ratios[label], n=4) if len(ratios[label]) > 1 else [over, over, over]
        hook = statistics.median(hook_ms[label]) / base_ms
        # the hooks' share is the precise figure; the paired median only confirms it within the machine's noise
        if hook > target:
            met = "**missed** (hooks alone over target)"
        elif over <= target:
            met = "met"
        else:
            met = "met within noise (hooks under target, paired median over it)"
        gamma = torch.cat([bn.weight.detach().reshape(-1) for bn in timed[label].trainer.bns])
        rows.append(f"| {label} | {lam:g} | {statistics.median(step_ms[label]):.2f} | {over:+.1%} | "
                    f"{q[0]:+.1%} … {q[2]:+.1%} | {statistics.median(hook_ms[label]):.3f} | {hook:.2%} | "
                    f"{(gamma == 0).float().mean().item():.0%} | ≤ {target:.0%}: {met} |")
    text = (
        "# Penalty overhead per training step\n\n"
        f"Machine: {describe_machine()}\n\n"
        f"Default model (`{base.model}`) on `{base.dataset}`, batch {base.batch_size}, SGD as in TrainConfig(), CPU, "
        f"one torch thread, process CPU time (robust to other load on this shared 2-core machine). {args.rounds} "
        f"rounds; in each, every penalty's block of {args.steps} steps runs right after a block of the unpenalised "
        f"run, and its overhead is its step time over that neighbour's, − 1. Medians over rounds.\n\n"
        f"Unpenalised (`none`): **{base_ms:.2f} ms per step** (median of {len(plain)} blocks; "
        f"min {min(plain):.2f}, max {max(plain):.2f}).\n\n"
        "| penalty | λ | ms / step | overhead (paired, median) | overhead, interquartile range over rounds | "
        "ms / step inside the penalty's hooks | hooks ÷ unpenalised step | γ = 0 at the end | target |\n"
        "|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        "*Overhead (paired)* is whole-step time, so it includes the optimizer's extra work (ISTA puts γ in its own "
        "parameter group) and the machine's noise: its interquartile range shows how far a single round can be "
        "off. *Hooks ÷ unpenalised step* is the CPU time spent in the penalty's `after_backward` and `after_step` "
        "alone, a direct measure of the same cost with far less noise. *γ = 0 at the end*: share of channels the "
        "penalty had zeroed when timing stopped (most hooks do the same work whatever the values; ℓp with p ≠ 1/2 "
        "ends its Newton iterations once they converge, so an all-zero γ would make it look cheaper). A target "
        "is met when both the hooks' share and the paired median are within it, *met within noise* when only the "
        "hooks' share is, and missed when the hooks' share alone exceeds it.\n\n"
        "ℓp with p ≠ 1/2 has no closed-form prox: its Newton loop (about 8 small tensor ops per iteration, 4–7 "
        "iterations, once per BN layer) is the dearest of the γ hooks. Until this benchmark it always ran 30 "
        "iterations (4.7 ms per step, about 10 %); it now stops each entry once converged. Calling the prox once "
        "over all layers' γ instead of once per layer would cut it further, but changes results at the ulp level "
        "(tests compare against the per-layer map bitwise), so it was left as is.\n\n"
        f"Total wall time: {time.perf_counter() - wall:.0f} s.\n\n"
        "Regenerate: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/penalty_overhead.py`\n"
    )
    save_result("penalty_overhead.md", text)
    print(text)


if __name__ == "__main__":
    main()
