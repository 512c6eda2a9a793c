"""`slimcore rank | preview | prune | evaluate`: global ranking, trade-off preview, real pruning, and evaluation."""
from __future__ import annotations

import argparse
import sys


def _progress(done: int, total: int, message: str) -> None:
    print(f"[{done}/{total}] {message}", file=sys.stderr, flush=True)


def _common(p: argparse.ArgumentParser, ranking: bool = True) -> None:
    from slimcore.cli.training import add_runs_dir
    from slimcore.pruning.rankings import RANKINGS

    if ranking:
        p.add_argument("--ranking", default="bn", help=f"one of: {', '.join(RANKINGS.names())} (default bn)")
        p.add_argument("--min-channels", type=int, default=1, help="channels every group keeps at least (default 1)")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")
    add_runs_dir(p)


def register(sub) -> None:
    from slimcore.pruning.legr import LEGR_DEFAULTS

    r = sub.add_parser("rank", help="rank every channel of a run globally (bn, l1norm; legr searches first)",
                       description="Score every prunable channel of a trained run. `--ranking legr` runs the "
                                   "LeGR evolutionary search (about a minute on the default run) and stores it.")
    r.add_argument("run_id")
    r.add_argument("--search", action="store_true", help="legr: search again even if a search is stored")
    d = LEGR_DEFAULTS
    for flag, kind, text in (("--target-flops", float, f"FLOPs share the fitness prunes to (default {d['flops_ratio']})"),
                             ("--population", int, f"population size (default {d['population']})"),
                             ("--sample", int, f"candidates sampled per generation (default {d['sample']})"),
                             ("--generations", int, f"generations (default {d['generations']})"),
                             ("--steps", int, f"fine-tuning steps τ per candidate (default {d['steps']})"),
                             ("--lr", float, f"fine-tuning learning rate (default {d['lr']})"),
                             ("--sigma", float, f"mutation scale (default {d['sigma']})"),
                             ("--seed", int, f"search seed (default {d['seed']})")):
        r.add_argument(flag, type=kind, default=None, help=f"legr: {text}")
    _common(r)
    r.set_defaults(func=cmd_rank)

    p = sub.add_parser("preview", help="accuracy/FLOPs trade-off curve of a run (cached in the run store)",
                       description="Without --threshold/--flops-ratio: the curve of --points thresholds plus the "
                                   "unpruned model, computed once per (run, ranking) and then read from the store. "
                                   "With one of them: that single point, computed exactly.")
    p.add_argument("run_id")
    p.add_argument("--points", type=int, default=50, help="points on the curve (default 50)")
    p.add_argument("--threshold", type=float, default=None, help="one point: remove channels scored below this")
    p.add_argument("--flops-ratio", type=float, default=None, help="one point: keep this share of FLOPs, in (0, 1]")
    p.add_argument("--recompute", action="store_true", help="recompute the curve even if it is cached")
    _common(p)
    p.set_defaults(func=cmd_preview)

    q = sub.add_parser("prune", help="cut channels for real; save the pruned model, ONNX and a report",
                       description="Prune a run at a threshold or a FLOPs ratio (exactly one), optionally fine-tune, "
                                   "and write DIR/model.pt, DIR/model.onnx and DIR/report.json. The pruned model is "
                                   "also recorded as a new run of kind `prune`.")
    q.add_argument("run_id")
    q.add_argument("--threshold", type=float, default=None, help="remove channels scored below this (0 keeps all)")
    q.add_argument("--flops-ratio", type=float, default=None, help="keep at most this share of FLOPs, in (0, 1]")
    q.add_argument("--finetune-epochs", type=int, default=0, help="fine-tuning epochs after the cut (default 0)")
    q.add_argument("--finetune-lr", type=float, default=0.01, help="fine-tuning learning rate (default 0.01)")
    q.add_argument("--out", default=None, help="output folder (default: the new prune run's folder)")
    _common(q)
    q.set_defaults(func=cmd_prune)

    e = sub.add_parser("evaluate", help="accuracy of a pruned model file (model.pt) on a data split")
    e.add_argument("path", help="model.pt written by `slimcore prune`")
    e.add_argument("--dataset", default=None, help="data set (default: the one the model was trained on)")
    e.add_argument("--data-root", default=None, help="data folder (default: the training run's)")
    e.add_argument("--split", default="test", choices=("train", "val", "test"), help="default test")
    _common(e, ranking=False)
    e.set_defaults(func=cmd_evaluate)


def cmd_rank(args: argparse.Namespace) -> int:
    import numpy as np

    from slimcore.cli.main import print_json
    from slimcore.errors import ConfigError
    from slimcore.cli.training import open_store
    from slimcore.pruning.plan import check_min_channels
    from slimcore.pruning.preview import describe_ranking

    legr = {k: v for k, v in {"flops_ratio": args.target_flops, "population": args.population,
                              "sample": args.sample, "generations": args.generations, "steps": args.steps,
                              "lr": args.lr, "sigma": args.sigma, "seed": args.seed}.items() if v is not None}
    if legr and args.ranking != "legr":
        raise ConfigError("the LeGR search flags (--target-flops, --population, --sample, --generations, --steps, "
                          "--lr, --sigma, --seed) apply to --ranking legr only.")
    if args.ranking == "legr":
        legr["min_channels"] = args.min_channels
    # a LeGR parameter asks for a new search; without one a stored search is reused
    research = args.search or len(legr) > 1
    check_min_channels(args.min_channels)
    out = describe_ranking(open_store(args), args.run_id, args.ranking, _progress, research, **legr)
    if args.json:
        print_json(out)
        return 0
    print(f"{out['ranking']}: {out['description']}")
    print(f"{'group':<28} {'width':>6} {'min':>9} {'median':>9} {'max':>9}  BN layers")
    for g in out["groups"]:
        s = np.asarray(g["scores"])
        print(f"{g['name']:<28} {g['width']:>6} {s.min():>9.4g} {np.median(s):>9.4g} {s.max():>9.4g}  "
              f"{', '.join(g['bns'])}")
    if "legr" in out:
        lg = out["legr"]
        print(f"LeGR: best fitness {lg['fitness']:.4f} (identity map {lg['identity_fitness']:.4f}), "
              f"{lg['evaluated']} candidates, {lg['seconds']} s{'' if lg['complete'] else ' (stopped early)'}")
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    from slimcore.cli.main import print_json
    from slimcore.cli.training import open_store
    from slimcore.pruning import get_curve, preview_at

    store = open_store(args)
    if args.threshold is not None or args.flops_ratio is not None:
        point = preview_at(store, args.run_id, args.ranking, args.threshold, args.flops_ratio, args.min_channels)
        if args.json:
            print_json(point)
        else:
            print(_row(point))
            if point["clamped"]:
                print(clamp_note(args.min_channels))
        return 0
    curve = get_curve(store, args.run_id, args.ranking, args.points, progress=None if args.json else _progress,
                      recompute=args.recompute, min_channels=args.min_channels)
    if args.json:
        print_json(curve)
        return 0
    print(f"{'threshold':>10} {'FLOPs':>8} {'params':>10} {'val acc':>8}")
    print(_row(curve["base"]) + "  (unpruned)")
    for point in curve["points"]:
        print(_row(point))
    if any(point["clamped"] for point in curve["points"]):
        print(clamp_note(args.min_channels))
    return 0


def clamp_note(min_channels: int) -> str:
    """What `clamped` means, in the words the CLI prints under a clamped point."""
    return (f"clamped: the threshold would remove every channel of some layers; each keeps its {min_channels} "
            "best-scored channel(s) instead (--min-channels).")


def _row(p: dict) -> str:
    t = "-" if p["threshold"] is None else f"{p['threshold']:.4g}"
    return (f"{t:>10} {p['flops_ratio']:>8.1%} {p['params']:>10,} {p['accuracy']:>8.4f}"
            + ("  clamped" if p["clamped"] else ""))


def cmd_prune(args: argparse.Namespace) -> int:
    from slimcore.cli.main import print_json
    from slimcore.cli.training import open_store
    from slimcore.pruning import commit

    report = commit(open_store(args), args.run_id, args.ranking, args.threshold, args.flops_ratio,
                    args.finetune_epochs, args.finetune_lr, args.out, progress=_progress,
                    min_channels=args.min_channels)
    if args.json:
        print_json(report)
        return 0
    lat = report["latency"]
    print(f"pruned run {report['run_id']}: {report['flops_ratio']:.1%} FLOPs, {report['params_ratio']:.1%} params, "
          f"test accuracy {report['accuracy']:.4f} (unpruned {report['base']['test_accuracy']:.4f}), "
          f"batch-1 speed-up {lat['batch1']['speedup']}×")
    if report["clamped"]:
        print(clamp_note(report["min_channels"]) + f" Threshold applied: {report['threshold']:.4g}.")
    if report["onnx"]["exporter"] != "dynamo":
        print(f"note: ONNX written with the TorchScript exporter ({report['onnx']['fallback_reason']})")
    print(report["files"]["report"])
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from slimcore.cli.main import print_json
    from slimcore.data import load_dataset
    from slimcore.errors import ConfigError
    from slimcore.pruning.loader import read_pruned
    from slimcore.training.evaluate import evaluate

    loaded = read_pruned(args.path)
    meta, arch = loaded.meta, loaded.arch
    name = args.dataset or meta.get("dataset")
    if not name:
        raise ConfigError(f"{args.path} does not record its data set; give one with --dataset.")
    root = args.data_root if args.data_root is not None else (meta.get("data_root") if name == meta.get("dataset") else None)
    data = load_dataset(name, root=root, seed=int(meta.get("seed") or 0))
    want = (arch["in_channels"], arch["image_size"], arch["image_size"])
    if data.input_shape != want or data.num_classes != arch["num_classes"]:
        raise ConfigError(f"the model takes {want[0]}×{want[1]}×{want[2]} inputs and predicts {arch['num_classes']} "
                          f"classes; data set {name!r} has {'×'.join(map(str, data.input_shape))} inputs and "
                          f"{data.num_classes} classes.")
    loss, accuracy = evaluate(loaded.model, getattr(data, args.split))
    out = {"accuracy": accuracy, "loss": loss, "dataset": name, "split": args.split,
           "samples": len(getattr(data, args.split))}
    if args.json:
        print_json(out)
    else:
        print(f"{name} {args.split}: accuracy {accuracy:.4f}, loss {loss:.4f} ({out['samples']} samples)")
    return 0
