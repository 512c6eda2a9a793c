"""`slimcore sensitivity RUN`: each channel group alone pruned to a series of shares, evaluated on val (a job, stored
with the run and read back on the next call)."""
from __future__ import annotations

import argparse


def register(sub) -> None:
    from slimcore.cli.training import add_runs_dir
    from slimcore.pruning.math.rankings import RANKINGS
    from slimcore.pruning.settings import SENSITIVITY_SHARES

    p = sub.add_parser("sensitivity", help="per-group sensitivity: prune one group at a time, measure val accuracy",
                       description="For every channel group, remove only that group's lowest-ranked channels at each "
                                   "share (cut exactly as `prune` cuts) and measure val accuracy and FLOPs. Runs as a "
                                   "job once per (run, ranking, shares), then reads the stored scan back.")
    p.add_argument("run_id")
    p.add_argument("--ranking", default="bn", help=f"one of: {', '.join(RANKINGS.names())} (default bn)")
    p.add_argument("--shares", default=",".join(f"{s:g}" for s in SENSITIVITY_SHARES),
                   help="comma-separated shares of a group's channels to remove, each in (0, 1) "
                        "(default 0.1,0.2,…,0.9)")
    p.add_argument("--recompute", action="store_true", help="scan again even if a scan is stored")
    p.add_argument("--detach", action="store_true",
                   help="run the scan as a background job and return at once (watch it with `slimcore runs`)")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")
    add_runs_dir(p)
    p.set_defaults(func=cmd_sensitivity)


def parse_shares(text: str) -> tuple[float, ...]:
    """`0.1,0.5` → (0.1, 0.5); anything that is not a comma-separated list of numbers is a ConfigError."""
    from slimcore.errors import ConfigError

    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise ConfigError(f"--shares wants comma-separated numbers in (0, 1) such as 0.1,0.5,0.9, got {text!r}.") \
            from None


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from slimcore import jobs
    from slimcore.cli.main import print_json
    from slimcore.cli.pruning import _run, _started
    from slimcore.cli.training import open_store
    from slimcore.errors import StoreError
    from slimcore.pruning.sensitivity import accuracy_drops, stored_sensitivity
    from slimcore.pruning.settings import SensitivitySettings

    settings = SensitivitySettings(ranking=args.ranking, shares=parse_shares(args.shares), recompute=args.recompute)
    store = open_store(args)
    scan = None if args.recompute or args.detach else stored_sensitivity(store, args.run_id, settings)
    if scan is None:
        scan_id = jobs.create(store, "sensitivity", settings, parent=args.run_id)
        if args.detach:
            return _started(store, scan_id, "sensitivity", args.run_id, args.json)
        status, message = _run(store, scan_id, args.json)
        scan = stored_sensitivity(store, args.run_id, settings.replace(recompute=False))
        if scan is None:
            raise StoreError(f"the sensitivity job {scan_id} ended {status} with no scan: {message}")
        scan["cached"] = False
    for group in scan["groups"]:
        group.pop("scores", None)
    if args.json:
        print_json(scan)
        return 0
    drops = accuracy_drops(scan)
    print(f"val accuracy drop when only one group is pruned (unpruned {scan['base_accuracy']:.4f}, ranking "
          f"{scan['ranking']}); columns: share of the group's channels removed")
    print(f"{'group':<24} {'width':>6} " + " ".join(f"{s:>7.0%}" for s in drops["shares"]))
    for group, row in zip(scan["groups"], drops["drops"]):
        print(f"{group['name']:<24} {group['width']:>6} " + " ".join(f"{d:>+7.3f}" for d in row))
    return 0
