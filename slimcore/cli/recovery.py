"""The flags of `slimcore prune` that recover accuracy after the cut: fine-tuning as a student of the unpruned model
(--distill) and pruning in several cuts with fine-tuning between them (--steps, --keep-penalty)."""
from __future__ import annotations

import argparse


def add_recovery_flags(p: argparse.ArgumentParser) -> None:
    """--distill, --distill-temperature, --distill-weight, --steps and --keep-penalty, with their defaults."""
    from slimcore.pruning.settings import FineTuneSettings

    ft = FineTuneSettings()
    p.add_argument("--distill", action="store_true",
                   help="fine-tune the pruned model as a student of the unpruned one (Hinton et al. 2015): loss "
                        "(1-W)·CE(labels) + W·T²·KL(teacher's softened outputs ‖ student's); needs --finetune-epochs")
    p.add_argument("--distill-temperature", type=float, default=None,
                   help=f"with --distill: the temperature T > 0 that softens both outputs (default "
                        f"{ft.distill_temperature:g})")
    p.add_argument("--distill-weight", type=float, default=None,
                   help=f"with --distill: W in [0, 1], the teacher's soft targets' share of the loss (default "
                        f"{ft.distill_weight:g})")
    p.add_argument("--steps", type=int, default=1,
                   help="prune in K cuts toward --flops-ratio R, cut k keeping 1-(1-R)·k/K of the FLOPs, each "
                        "re-ranking the model fine-tuned for --finetune-epochs after the cut before (default 1)")
    p.add_argument("--keep-penalty", action="store_true",
                   help="with --steps K: keep the run's sparsity penalty on while fine-tuning between the cuts "
                        "(network slimming's multi-pass scheme); the last fine-tune goes without it")


def finetune_from_args(args: argparse.Namespace):
    """The FineTuneSettings the prune flags ask for; a --distill-* flag without --distill is refused."""
    from slimcore.errors import ConfigError
    from slimcore.pruning.settings import FineTuneSettings

    given = {name: getattr(args, name) for name in ("distill_temperature", "distill_weight")
             if getattr(args, name) is not None}
    if given and not args.distill:
        flags = " and ".join("--" + name.replace("_", "-") for name in given)
        raise ConfigError(f"{flags} set up distillation: add --distill, or leave {'them' if len(given) > 1 else 'it'} "
                          "out.")
    return FineTuneSettings(epochs=args.finetune_epochs, lr=args.finetune_lr, schedule=args.finetune_schedule,
                            distill=args.distill, keep_penalty=args.keep_penalty, **given)


def step_lines(report: dict) -> list[str]:
    """One line per cut of an iterative prune's report (none for a one-shot commit)."""
    return [f"  step {s['step']}: {s['flops_ratio']:.1%} FLOPs (target {s['target_flops_ratio']:.1%}), "
            f"val accuracy {s['before_finetune']['val_accuracy']:.4f} after the cut, {s['val_accuracy']:.4f} "
            f"fine-tuned; test {s['test_accuracy']:.4f}  {s['model_pt']}" for s in report.get("steps", [])]
