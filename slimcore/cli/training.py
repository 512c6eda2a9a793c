"""`slimcore train | resume` (`runs` and `stop` are in `slimcore.cli.jobs`: they serve every kind of job)."""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from slimcore.config import DEFAULT_PENALTY, TrainConfig

if TYPE_CHECKING:
    from slimcore.penalties.params import Param


def _names(registry) -> str:
    return ", ".join(registry.names())


def add_runs_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runs-dir", default=None, help="run store folder (default: $SLIMCORE_RUNS_DIR or ./runs)")


def open_store(args: argparse.Namespace):
    """The store of a command that names a run: the id is checked first, and a missing store is not created."""
    from pathlib import Path

    from slimcore.errors import StoreError
    from slimcore.store import RunStore, default_runs_dir, validate_run_id
    from slimcore.store.runs import DB_NAME

    validate_run_id(args.run_id)
    root = Path(args.runs_dir) if args.runs_dir is not None else default_runs_dir()
    if not (root / DB_NAME).is_file():
        raise StoreError(f"no run {args.run_id!r} in {root}: there is no run store there; check --runs-dir (or "
                         "SLIMCORE_RUNS_DIR), or start a run with `slimcore train`.")
    return RunStore(root)


def register(sub) -> None:
    from slimcore.cli.plugins import plugin_failures_text
    from slimcore.data import DATASETS
    from slimcore.models import MODELS
    from slimcore.penalties import PENALTIES

    d = TrainConfig.__dataclass_fields__
    t = sub.add_parser("train", help="train a model with a sparsity penalty on BN γ",
                       description="Train a CNN with a sparsity penalty on its BN scale factors γ. With no "
                                   "arguments: the default model on the embedded MNIST data (about a minute on a CPU).")
    from slimcore.recipes import RECIPES

    t.add_argument("--recipe", default=None, help=f"start from a paper's set-up (any flag given overrides it): "
                                                   f"{_names(RECIPES)}; `slimcore recipe list` shows them")
    t.add_argument("--model", default=None, help=f"one of: {_names(MODELS)} (default {d['model'].default}); or "
                                                  "your own: package.module:function or path/to/file.py:function, "
                                                  "a callable (num_classes, in_channels, image_size) -> nn.Module")
    t.add_argument("--dataset", default=None, help=f"one of: {_names(DATASETS)} (default {d['dataset'].default})")
    t.add_argument("--data-root", default=None, help="data folder (cifar download target, imagefolder root)")
    t.add_argument("--penalty", default=None, help=f"one of: {_names(PENALTIES)} (default {DEFAULT_PENALTY})")
    lams = ", ".join(f"{n} {PENALTIES.get(n).default_lam:g}" for n in PENALTIES.names())
    t.add_argument("--lam", type=float, default=None, help=f"penalty weight λ ≥ 0 (default per penalty: {lams})")
    penalty_flags(t)
    for flag, name, kind in (("--epochs", "epochs", int), ("--lr", "lr", float), ("--momentum", "momentum", float),
                             ("--weight-decay", "weight_decay", float), ("--batch-size", "batch_size", int)):
        t.add_argument(flag, type=kind, default=None, help=f"default {d[name].default}")
    t.add_argument("--schedule", default=None, help=f"cosine, step or constant (default {d['schedule'].default})")
    t.add_argument("--seed", type=int, default=d["seed"].default)
    t.add_argument("--device", default=d["device"].default, help="auto (cuda > mps > cpu), cpu, cuda, cuda:N, mps")
    t.add_argument("--no-amp", action="store_true", help="disable mixed precision on CUDA")
    t.add_argument("--no-channels-last", action="store_true", help="disable channels_last on CUDA")
    t.add_argument("--compile", action="store_true", help="compile the model with torch.compile (slow start)")
    t.add_argument("--checkpoint-every", type=int, default=d["checkpoint_every"].default,
                   help="also checkpoint every N steps within an epoch (0: at epoch ends only); bounds what a "
                        "crash can lose on long epochs")
    t.add_argument("--snapshot-every", type=int, default=d["snapshot_every"].default,
                   help="record γ every N steps (and at each epoch end)")
    t.add_argument("--workers", type=int, default=d["num_workers"].default, help="data loader workers")
    t.add_argument("--init-from", default=None, metavar="FILE",
                   help="start from these weights: a state_dict or checkpoint file (loaded with weights_only); a "
                        "classifier head of another class count is replaced")
    t.add_argument("--pretrained", action="store_true",
                   help="start from torchvision's published ImageNet weights (tv_* models; downloaded into torch's "
                        "hub cache when the machine has a network)")
    t.add_argument("--label", default="", help="a short name shown with the run")
    t.add_argument("--detach", action="store_true", help="run as a background job and return at once")
    t.add_argument("--json", action="store_true", help="print a JSON object with run_id")
    add_runs_dir(t)
    t.set_defaults(func=cmd_train)
    failed = plugin_failures_text()
    if failed:
        t.epilog = failed

    u = sub.add_parser("resume", help="resume a stopped or interrupted run from its last checkpoint")
    u.add_argument("run_id")
    u.add_argument("--detach", action="store_true", help="resume as a background job")
    u.add_argument("--json", action="store_true")
    add_runs_dir(u)
    u.set_defaults(func=cmd_resume)


def declared_parameters() -> dict[str, list[tuple[str, Param]]]:
    """Parameter name → [(penalty, its Param)] over every registered penalty: one CLI flag per name."""
    from slimcore.penalties import PENALTIES

    found: dict[str, list[tuple[str, Param]]] = {}
    for name in PENALTIES.names():
        for param in PENALTIES.get(name).parameters:
            found.setdefault(param.name, []).append((name, param))
    return dict(sorted(found.items()))


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _flag_help(declared: list[tuple[str, Param]]) -> str:
    """Which penalties take the flag, with each one's range and default (help text once if they share it)."""
    helps = {p.help for _, p in declared}
    groups: dict[tuple, list[str]] = {}
    for penalty, p in declared:
        groups.setdefault((p.help if len(helps) > 1 else "", p.allowed(), p.default_text()), []).append(penalty)
    parts = [f"{', '.join(names)}: {h + '; ' if h else ''}{allowed}, default {default}"
             for (h, allowed, default), names in groups.items()]
    text = (f"{helps.pop()}. " if len(helps) == 1 else "") + "; ".join(parts)
    return text.replace("%", "%%")  # argparse formats help with %


def penalty_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per parameter name the registered penalties declare; the chosen penalty parses its value."""
    for name, declared in declared_parameters().items():
        parser.add_argument(_flag(name), dest=f"penalty_{name}", metavar=name.upper(), default=None,
                            help=_flag_help(declared))


def penalty_params_from_args(args: argparse.Namespace, penalty: str) -> dict:
    """The penalty flags given, each parsed by the chosen penalty's own Param (a flag it lacks is an error)."""
    from slimcore.errors import ConfigError
    from slimcore.penalties import PENALTIES

    given = {name: getattr(args, f"penalty_{name}") for name in declared_parameters()
             if getattr(args, f"penalty_{name}", None) is not None}
    if penalty not in PENALTIES:
        return given  # TrainConfig names the bad penalty
    cls = PENALTIES.get(penalty)
    params = {}
    for name, text in given.items():
        param = cls.parameter(name)
        if param is None:
            own = ", ".join(_flag(p.name) for p in cls.parameters) or "none besides --lam"
            raise ConfigError(f"penalty {penalty!r} has no parameter {name!r} ({_flag(name)}); its parameters: "
                              f"{own}.")
        params[name] = param.parse(text, penalty)
    return params


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Validated TrainConfig from parsed flags (raises ConfigError before anything is written); λ and parameters
    not given take the chosen penalty's declared defaults."""
    base = TrainConfig.__dataclass_fields__
    recipe = {}
    if getattr(args, "recipe", None) is not None:
        from slimcore.recipes import RECIPES

        recipe = dict(RECIPES.get(args.recipe).train)

    def pick(name: str):
        given = getattr(args, name)
        return given if given is not None else recipe.get(name, base[name].default)

    penalty = args.penalty if args.penalty is not None else recipe.get("penalty", DEFAULT_PENALTY)
    same_penalty = penalty == recipe.get("penalty")
    params = {**(recipe.get("penalty_params", {}) if same_penalty else {}), **penalty_params_from_args(args, penalty)}
    lam = args.lam if args.lam is not None else (recipe.get("lam") if same_penalty else None)
    label = args.label or (f"recipe {args.recipe}" if recipe else "")
    return TrainConfig(
        model=pick("model"), dataset=pick("dataset"), data_root=args.data_root, penalty=penalty, lam=lam,
        penalty_params=params, epochs=pick("epochs"), lr=pick("lr"), momentum=pick("momentum"),
        weight_decay=pick("weight_decay"), batch_size=pick("batch_size"), schedule=pick("schedule"), seed=args.seed,
        device=args.device, amp=not args.no_amp, channels_last=not args.no_channels_last, compile=args.compile,
        snapshot_every=args.snapshot_every, checkpoint_every=args.checkpoint_every, num_workers=args.workers,
        label=label, init_from=args.init_from, pretrained=args.pretrained,
    )


def _finish_payload(store, run_id: str) -> dict:
    run = store.get_run(run_id)
    return {"run_id": run_id, "status": run["status"], "message": run["message"],
            "runs_dir": str(store.root), **{k: run["summary"].get(k) for k in
                                           ("val_accuracy", "train_accuracy", "sparsity@0.01", "sparsity@0")}}


def _refuse_detach_under_torchrun(args: argparse.Namespace) -> None:
    from slimcore import distributed
    from slimcore.errors import ConfigError

    if args.detach and distributed.launched_by_torchrun():
        raise ConfigError("--detach cannot be used under torchrun; run torchrun itself in the background "
                          "(e.g. with nohup) instead.")


def cmd_train(args: argparse.Namespace) -> int:
    from slimcore import distributed, jobs
    from slimcore.cli.plugins import warn_plugin_failures
    from slimcore.cli.main import print_json
    from slimcore.errors import SlimcoreError
    from slimcore.store import RunStore
    from slimcore.training.observers import ProgressBar

    warn_plugin_failures()
    config = config_from_args(args)
    config.build_penalty()
    if config.epochs == 0:
        from slimcore.errors import ConfigError

        raise ConfigError("--epochs must be at least 1; to record weights without training them, use "
                          "`slimcore import FILE --model NAME --dataset D`.")
    _refuse_detach_under_torchrun(args)
    if args.detach:
        jobs.check_startable(config)  # device and data: bad input is refused before a run is recorded
        store = RunStore(args.runs_dir)
        run_id = jobs.create_run(store, config)
        pid = jobs.launch(store, run_id)
        if args.json:
            print_json({"run_id": run_id, "pid": pid, "status": "starting", "runs_dir": str(store.root)})
        else:
            print(f"started run {run_id} (pid {pid}); watch it with `slimcore runs`, stop it with "
                  f"`slimcore stop {run_id}`")
        return 0
    dist = distributed.from_environment(config.device)
    try:
        # Device and data are checked before a run is recorded. Under torchrun rank 0 checks (and downloads)
        # alone, and the others hear its verdict, so no two processes fetch one data set into one folder.
        problem, data = None, None
        if dist is None or dist.is_main:
            try:
                data = jobs.check_startable(config)
            except SlimcoreError as e:
                problem = e
        if dist is not None:
            problem = dist.broadcast(problem)
        if problem is not None:
            raise problem
        # Under torchrun rank 0 alone opens the store and creates the run; the others learn its id.
        store = RunStore(args.runs_dir) if dist is None or dist.is_main else None
        run_id = jobs.create_run(store, config) if store is not None else None
        if dist is not None:
            run_id = dist.broadcast(run_id)
        if store is None:
            jobs.run_training(None, run_id, dist=dist)
            return 0
        print(f"run {run_id}" + (f" ({dist.world_size} processes)" if dist else ""), file=sys.stderr)
        status, message = jobs.run_training(store, run_id, observers=[ProgressBar()], dist=dist, data=data)
        return _report(store, run_id, status, message, args.json)
    finally:
        distributed.shutdown(dist)


def _report(store, run_id: str, status: str, message: str, as_json: bool) -> int:
    from slimcore.cli.main import print_json

    if as_json:
        print_json(_finish_payload(store, run_id))
    else:
        print(run_id)
        if message:
            print(f"{status}: {message}", file=sys.stderr)
    return 0 if status in ("finished", "stopped") else 1


def cmd_resume(args: argparse.Namespace) -> int:
    from slimcore import distributed, jobs
    from slimcore.cli.main import print_json
    from slimcore.training.observers import ProgressBar

    _refuse_detach_under_torchrun(args)
    dist = distributed.from_environment()
    try:
        # Any number of processes may resume a run: batches and steps count in global batches.
        store = open_store(args) if dist is None or dist.is_main else None
        if store is None:
            jobs.run_training(None, args.run_id, resume=True, dist=dist)
            return 0
        if dist is None:
            jobs.check_resumable(store, args.run_id)
        if args.detach:
            pid = jobs.resume(store, args.run_id)
            if args.json:
                print_json({"run_id": args.run_id, "pid": pid, "status": "starting"})
            else:
                print(f"resumed run {args.run_id} (pid {pid})")
            return 0
        status, message = jobs.run_training(store, args.run_id, resume=True, observers=[ProgressBar()], dist=dist)
        return _report(store, args.run_id, status, message, args.json)
    finally:
        distributed.shutdown(dist)
