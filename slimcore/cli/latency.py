"""`slimcore latency RUN`: every curve point's committed model timed per backend (a job, stored with the curve)."""
from __future__ import annotations

import argparse
import sys


def register(sub) -> None:
    from slimcore.cli.rules import add_rule_flags
    from slimcore.cli.training import add_runs_dir
    from slimcore.pruning.timing import BACKENDS

    p = sub.add_parser("latency", help="time every point of a run's curve on each backend (a job)",
                       description="Builds every point of the trade-off curve as commit would (the curve is computed "
                                   "first when missing), times it at batch 1 and --batch (median of --repeats after "
                                   "warm-up, with the interquartile range), and stores it with the curve; `preview "
                                   "--json` then carries latency_ms per backend.")
    p.add_argument("run_id")
    p.add_argument("--ranking", default="bn")
    p.add_argument("--points", type=int, default=50, help="points on the curve (default 50)")
    p.add_argument("--min-channels", type=int, default=1)
    p.add_argument("--backend", action="append", default=None,
                   help=f"repeatable: {', '.join(BACKENDS.names())} (default torch-cpu and onnxruntime)")
    p.add_argument("--batch", type=int, default=32, help="the second batch size timed (default 32)")
    p.add_argument("--repeats", type=int, default=20, help="timed passes per model (default 20)")
    add_rule_flags(p)
    p.add_argument("--recompute", action="store_true", help="time again even if timings are stored")
    p.add_argument("--detach", action="store_true", help="run as a background job and return at once")
    p.add_argument("--json", action="store_true")
    add_runs_dir(p)
    p.set_defaults(func=cmd_latency)


def cmd_latency(args: argparse.Namespace) -> int:
    from slimcore import jobs
    from slimcore.cli.main import print_json
    from slimcore.cli.pruning import _progress, _started
    from slimcore.cli.rules import rules_from_args
    from slimcore.cli.training import open_store
    from slimcore.errors import StoreError
    from slimcore.pruning.latency_curve import LatencySettings, stored_latency

    settings = LatencySettings(ranking=args.ranking, points=args.points, min_channels=args.min_channels,
                               backends=tuple(args.backend or ("torch-cpu", "onnxruntime")), batch=args.batch,
                               repeats=args.repeats, rules=rules_from_args(args))
    store = open_store(args)
    result = None if args.recompute or args.detach else stored_latency(store, args.run_id, settings)
    if result is None:
        job_id = jobs.create(store, "latency", settings, parent=args.run_id)
        if args.detach:
            return _started(store, job_id, "latency", args.run_id, args.json)
        print(f"job {job_id}", file=sys.stderr)
        status, message = jobs.run_here(store, job_id, echo=None if args.json else _progress)
        result = stored_latency(store, args.run_id, settings)
        if result is None:
            raise StoreError(f"the latency job {job_id} ended {status} with no timings: {message}")
    if args.json:
        print_json(result)
        return 0
    keys = settings.batch_keys()
    head = "".join(f" {b[:11] + ' ' + k:>22}" for b in settings.backends for k in keys)
    print(f"{'FLOPs':>7}{head}")
    for row in [result["base"], *result["points"]]:
        cells = "".join(f" {row['latency_ms'][b][k]:>14.4g} ± {row['spread_ms'][b][k]:<5.2g}" for b in settings.backends
                        for k in keys)
        print(f"{row['flops_ratio']:>7.1%}{cells}")
    for b, errors in result["estimate_error"].items():
        e = errors["batch1"]
        if e["points"]:
            print(f"estimate between timed points ({b}, batch 1): median error {e['median_rel']:.1%}, largest "
                  f"{e['max_rel']:.1%} (each point left out in turn)")
    return 0


def latency_threshold(args: argparse.Namespace) -> dict:
    """For `prune --latency-ms X`: the threshold of the largest timed curve point measured at most X on the backend,
    with what was measured there (ConfigError when the flags conflict, StoreError when nothing is timed)."""
    from slimcore.cli.training import open_store
    from slimcore.errors import ConfigError, StoreError
    from slimcore.pruning.latency_curve import any_stored_latency, point_for_latency

    if args.threshold is not None or args.flops_ratio is not None:
        raise ConfigError("give one of --threshold, --flops-ratio or --latency-ms.")
    if args.latency_batch < 1:
        raise ConfigError(f"--latency-batch must be at least 1, got {args.latency_batch}.")
    from slimcore.cli.rules import rules_from_args

    timings = any_stored_latency(open_store(args), args.run_id, args.ranking, None, args.min_channels,
                                 rules_from_args(args))
    if timings is None or args.backend not in timings["backends"]:
        raise StoreError(f"run {args.run_id} has no timings on {args.backend} for the {args.ranking} ranking; time its "
                         f"curve first: slimcore latency {args.run_id} --ranking {args.ranking} --backend {args.backend}"
                         + (f" --batch {args.latency_batch}" if args.latency_batch != 1 else "") + ".")
    key = f"batch{args.latency_batch}"
    if key not in timings["base"]["latency_ms"][args.backend]:
        raise StoreError(f"the stored timings have batches {', '.join(timings['base']['latency_ms'][args.backend])}, not "
                         f"{args.latency_batch}; time the curve with --batch {args.latency_batch}.")
    point = point_for_latency(timings, args.latency_ms, args.backend, key)
    if point["threshold"] is None:  # the unpruned model is already fast enough: cut nothing
        point = {**point, "threshold": float("-inf")}
    return {"target_ms": args.latency_ms, "backend": args.backend, "batch": args.latency_batch,
            "threshold": point["threshold"], "point_ms": point["latency_ms"][args.backend][key],
            "point_spread_ms": point["spread_ms"][args.backend][key]}


def measure_committed(report: dict, backend: str, batch: int, repeats: int = 20) -> dict:
    """The committed model.pt timed again on the backend (what `--latency-ms` promised)."""
    from slimcore.pruning.loader import read_pruned
    from slimcore.pruning.timing import BACKENDS, measure_latency

    pruned = read_pruned(report["files"]["model_pt"])
    shape = (pruned.arch["in_channels"], pruned.arch["image_size"], pruned.arch["image_size"])
    t = measure_latency(BACKENDS.get(backend)().prepare(pruned.model, shape, batch), repeats)
    return {"measured_ms": round(t.median_ms, 5), "measured_spread_ms": round(t.spread_ms, 5)}
