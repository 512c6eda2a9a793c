"""`slimcore rank | preview | prune | evaluate`: global ranking, trade-off preview, real pruning, and evaluation.

The long ones (a LeGR search, a curve, a commit) are jobs: in the foreground they run in this process and
print their progress; with `--detach` they run in the background and `--json` prints {"run_id": ...}.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys


def _progress(done: float, total: int, message: str) -> None:
    print(f"[{done:g}/{total}] {message}", file=sys.stderr, flush=True)


def _common(p: argparse.ArgumentParser, ranking: bool = True) -> None:
    from slimcore.cli.training import add_runs_dir
    from slimcore.pruning.math.rankings import RANKINGS

    if ranking:
        p.add_argument("--ranking", default="bn", help=f"one of: {', '.join(RANKINGS.names())} (default bn)")
        p.add_argument("--min-channels", type=int, default=1, help="channels every group keeps at least (default 1)")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")
    add_runs_dir(p)


def _detach(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--detach", action="store_true",
                   help=f"run {what} as a background job and return at once (watch it with `slimcore runs`, stop "
                        "it with `slimcore stop RUN`)")


# LeGR search flag → LegrSettings field
LEGR_FLAGS = {"--target-flops": ("flops_ratio", float, "FLOPs share the fitness prunes to"),
              "--population": ("population", int, "population size"),
              "--sample": ("sample", int, "candidates sampled per generation"),
              "--generations": ("generations", int, "generations"),
              "--steps": ("steps", int, "fine-tuning steps τ per candidate"),
              "--lr": ("lr", float, "fine-tuning learning rate"),
              "--sigma": ("sigma", float, "mutation scale σ of log α"),
              "--mutate-share": ("mutate_share", float, "share of the layers each mutation changes"),
              "--held-out": ("held_out", float, "share of the training images held out to score candidates on"),
              "--seed": ("seed", int, "search seed")}


def register(sub) -> None:
    from slimcore.cli.recovery import add_recovery_flags
    from slimcore.cli.rules import add_rule_flags
    from slimcore.pruning.settings import LegrSettings

    r = sub.add_parser("rank", help="rank every channel of a run globally (bn, l1norm; legr searches first)",
                       description="Score every prunable channel of a trained run. `--ranking legr` runs the "
                                   "LeGR evolutionary search (about a minute on the default run) as a job and "
                                   "stores it with the run.")
    r.add_argument("run_id")
    r.add_argument("--search", action="store_true", help="legr: search again even if a search is stored")
    defaults = LegrSettings()
    for flag, (name, kind, text) in LEGR_FLAGS.items():
        r.add_argument(flag, type=kind, default=None, dest=f"legr_{name}",
                       help=f"legr: {text} (default {getattr(defaults, name)})")
    _detach(r, "the LeGR search")
    _common(r)
    r.set_defaults(func=cmd_rank)

    p = sub.add_parser("preview", help="accuracy/FLOPs trade-off curve of a run (cached in the run store)",
                       description="Without --threshold/--flops-ratio: the curve of --points thresholds plus the "
                                   "unpruned model, computed once per (run, ranking) as a job and then read from "
                                   "the store. With one of them: that single point, computed exactly.")
    p.add_argument("run_id")
    p.add_argument("--points", type=int, default=50, help="points on the curve (default 50)")
    p.add_argument("--threshold", type=float, default=None, help="one point: remove channels scored below this")
    p.add_argument("--flops-ratio", type=float, default=None, help="one point: keep this share of FLOPs, in (0, 1]")
    p.add_argument("--recompute", action="store_true", help="recompute the curve even if it is cached")
    _detach(p, "the curve's evaluation")
    add_rule_flags(p)
    _common(p)
    p.set_defaults(func=cmd_preview)

    q = sub.add_parser("prune", help="cut channels for real; save the pruned model, ONNX and a report",
                       description="Prune a run at a threshold or a FLOPs ratio (exactly one), optionally fine-tune, "
                                   "and write DIR/model.pt, DIR/model.onnx and DIR/report.json. It runs as a job: "
                                   "a run of kind `prune` in the store.")
    q.add_argument("run_id")
    q.add_argument("--threshold", type=float, default=None, help="remove channels scored below this (0 keeps all)")
    q.add_argument("--flops-ratio", type=float, default=None, help="keep at most this share of FLOPs, in (0, 1]")
    q.add_argument("--latency-ms", type=float, default=None,
                   help="the largest timed curve point whose measured latency is at most this (time the curve first: "
                        "`slimcore latency RUN`)")
    q.add_argument("--backend", default="torch-cpu", help="--latency-ms: the backend it is measured on (torch-cpu, "
                                                          "onnxruntime, torch-cuda; default torch-cpu)")
    q.add_argument("--latency-batch", type=int, default=1, help="--latency-ms: the batch size (default 1)")
    q.add_argument("--finetune-epochs", type=int, default=0, help="fine-tuning epochs after the cut (default 0)")
    q.add_argument("--finetune-lr", type=float, default=0.01, help="fine-tuning learning rate (default 0.01)")
    q.add_argument("--finetune-schedule", default="cosine", help="cosine, step or constant (default cosine)")
    q.add_argument("--out", default=None, help="output folder (default: the new prune run's folder)")
    add_recovery_flags(q)
    _detach(q, "the commit")
    add_rule_flags(q)
    _common(q)
    q.set_defaults(func=cmd_prune)

    e = sub.add_parser("evaluate", help="accuracy of a pruned model file (model.pt) on a data split")
    e.add_argument("path", help="model.pt written by `slimcore prune`")
    e.add_argument("--dataset", default=None, help="data set (default: the one the model was trained on)")
    e.add_argument("--data-root", default=None, help="data folder (default: the training run's)")
    e.add_argument("--split", default="test", choices=("train", "val", "test"), help="default test")
    _common(e, ranking=False)
    e.set_defaults(func=cmd_evaluate)


def _started(store, run_id: str, kind: str, parent: str, as_json: bool) -> int:
    """Launches a recorded job and says how to follow it."""
    from slimcore import jobs
    from slimcore.cli.main import print_json

    pid = jobs.launch(store, run_id)
    if as_json:
        print_json({"run_id": run_id, "kind": kind, "parent": parent, "pid": pid, "status": "starting",
                    "runs_dir": str(store.root)})
    else:
        print(f"started {kind} job {run_id} (pid {pid}) on run {parent}; watch it with `slimcore runs`, stop it "
              f"with `slimcore stop {run_id}`")
    return 0


def _run(store, run_id: str, as_json: bool) -> tuple[str, str]:
    from slimcore import jobs

    print(f"job {run_id}", file=sys.stderr)
    return jobs.run_here(store, run_id, echo=None if as_json else _progress)


def cmd_rank(args: argparse.Namespace) -> int:
    import numpy as np

    from slimcore import jobs
    from slimcore.cli.main import print_json
    from slimcore.cli.training import open_store
    from slimcore.errors import ConfigError, StoreError
    from slimcore.pruning.math.plan import check_min_channels
    from slimcore.pruning.math.rankings import RANKINGS
    from slimcore.pruning.scoring import describe_ranking
    from slimcore.pruning.search import stored_legr
    from slimcore.pruning.settings import LegrSettings

    given = {name: getattr(args, f"legr_{name}") for name, _, _ in LEGR_FLAGS.values()
             if getattr(args, f"legr_{name}") is not None}
    if given and args.ranking != "legr":
        raise ConfigError("the LeGR search flags (--target-flops, --population, --sample, --generations, --steps, "
                          "--lr, --sigma, --seed) apply to --ranking legr only.")
    check_min_channels(args.min_channels)
    searches = RANKINGS.get(args.ranking).needs_search
    if args.detach and not searches:
        raise ConfigError(f"--detach runs the LeGR search in the background; the {args.ranking} ranking is read off "
                          "the weights at once (leave --detach out).")
    settings = LegrSettings(**given, min_channels=args.min_channels) if searches else None
    store = open_store(args)
    # a LeGR flag asks for a new search; without one a stored search is reused
    if searches and (args.detach or args.search or given or stored_legr(store, args.run_id) is None):
        search_id = jobs.create(store, "search", settings, parent=args.run_id)
        if args.detach:
            return _started(store, search_id, "search", args.run_id, args.json)
        status, message = _run(store, search_id, args.json)
        if stored_legr(store, args.run_id) is None:
            raise StoreError(f"the LeGR search {search_id} ended {status} with no result: {message}")
    out = describe_ranking(store, args.run_id, args.ranking, _progress)
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
        print(f"LeGR: best fitness {lg['fitness']:.4f} on {lg.get('scored_on', 'val')} (identity map "
              f"{lg['identity_fitness']:.4f}), "
              f"{lg['evaluated']} candidates, {lg['seconds']} s{'' if lg['complete'] else ' (stopped early)'}")
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    from slimcore import jobs
    from slimcore.cli.main import print_json
    from slimcore.cli.rules import rules_from_args
    from slimcore.cli.training import open_store
    from slimcore.errors import ConfigError, StoreError
    from slimcore.pruning.curve import preview_at, stored_curve
    from slimcore.pruning.settings import CurveSettings

    rules = rules_from_args(args)
    if args.threshold is not None or args.flops_ratio is not None:
        if args.detach:
            raise ConfigError("--detach evaluates the whole curve in the background; a single point (--threshold, "
                              "--flops-ratio) is computed at once (leave --detach out).")
        store = open_store(args)
        point = preview_at(store, args.run_id, args.ranking, args.threshold, args.flops_ratio, args.min_channels,
                           rules)
        if args.json:
            print_json(point)
        else:
            print(_row(point))
            if point["clamped"]:
                print(clamp_note(args.min_channels))
        return 0
    settings = CurveSettings(ranking=args.ranking, points=args.points, min_channels=args.min_channels,
                             recompute=args.recompute, rules=rules)
    store = open_store(args)
    curve = None if args.recompute or args.detach else stored_curve(store, args.run_id, settings)
    if curve is None:
        curve_id = jobs.create(store, "curve", settings, parent=args.run_id)
        if args.detach:
            return _started(store, curve_id, "curve", args.run_id, args.json)
        status, message = _run(store, curve_id, args.json)
        curve = stored_curve(store, args.run_id, dataclasses.replace(settings, recompute=False))
        if curve is None:
            raise StoreError(f"the curve job {curve_id} ended {status} with no curve: {message}")
        curve["cached"] = False
    from slimcore.pruning.latency_curve import any_stored_latency, with_latency

    curve = with_latency({k: v for k, v in curve.items() if k != "channel_scores"},
                         any_stored_latency(store, args.run_id, args.ranking, args.points, args.min_channels,
                                            rules))
    if args.json:
        print_json(curve)
        return 0
    print(f"{'threshold':>10} {'FLOPs':>8} {'params':>10} {'val acc':>8} {'Δ output':>9}")
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
    t = "-" if p["threshold"] is None else f"{p['threshold']:.4g}" if abs(p["threshold"]) > 1e-300 else "0 (tied)"
    change = p.get("output_change")
    return (f"{t:>10} {p['flops_ratio']:>8.1%} {p['params']:>10,} {p['accuracy']:>8.4f} "
            f"{'' if change is None else f'{change:.2e}':>9}" + ("  clamped" if p["clamped"] else ""))


def cmd_prune(args: argparse.Namespace) -> int:
    from slimcore import jobs
    from slimcore.cli.main import print_json
    from slimcore.cli.recovery import finetune_from_args, step_lines
    from slimcore.cli.rules import rules_from_args
    from slimcore.cli.training import open_store
    from slimcore.errors import StoreError
    from slimcore.pruning.committing import prune_report
    from slimcore.pruning.settings import PruneSettings

    finetune = finetune_from_args(args)
    target = None
    if args.latency_ms is not None:
        from slimcore.cli.latency import latency_threshold

        target = latency_threshold(args)
        args.threshold = target["threshold"]
    settings = PruneSettings(ranking=args.ranking, threshold=args.threshold, flops_ratio=args.flops_ratio,
                             min_channels=args.min_channels, finetune=finetune, out_dir=args.out, steps=args.steps,
                             rules=rules_from_args(args))
    store = open_store(args)
    prune_id = jobs.create(store, "prune", settings, parent=args.run_id)
    if args.detach:
        return _started(store, prune_id, "prune", args.run_id, args.json)
    status, message = _run(store, prune_id, args.json)
    report = prune_report(store, prune_id)
    if report is None:
        raise StoreError(f"the prune job {prune_id} ended {status} without exporting a model: {message}")
    if target is not None:
        from slimcore.cli.latency import measure_committed

        report["latency_target"] = {**target, **measure_committed(report, args.backend, args.latency_batch)}
    if args.json:
        print_json(report)
        return 0
    lat = report["latency"]
    print(f"pruned run {report['run_id']}: {report['flops_ratio']:.1%} FLOPs, {report['params_ratio']:.1%} params, "
          f"test accuracy {report['accuracy']:.4f} (unpruned {report['base']['test_accuracy']:.4f}), "
          f"batch-1 speed-up {lat['batch1']['speedup']}×")
    for line in step_lines(report):  # an iterative prune's path, cut by cut
        print(line)
    if status == "stopped":
        print(f"stopped: {message}")
    if report["clamped"]:
        print(clamp_note(report["min_channels"]) + f" Threshold applied: {report['threshold']:.4g}.")
    if report["onnx"]["exporter"] != "dynamo":
        print(f"note: ONNX written with the TorchScript exporter ({report['onnx']['fallback_reason']})")
    print(report["files"]["report"])
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from slimcore.cli.main import print_json
    from slimcore.evaluation import evaluate_pruned
    from slimcore.pruning.loader import read_pruned

    out = evaluate_pruned(read_pruned(args.path), args.dataset, args.data_root, args.split)
    out = {k: out[k] for k in ("accuracy", "loss", "dataset", "split", "samples")}
    if args.json:
        print_json(out)
    else:
        print(f"{out['dataset']} {args.split}: accuracy {out['accuracy']:.4f}, loss {out['loss']:.4f} "
              f"({out['samples']} samples)")
    return 0
