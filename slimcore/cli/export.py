"""`slimcore export RUN --tensorboard DIR`: a run's metrics and BN-γ histograms as TensorBoard event files."""
from __future__ import annotations

import argparse
from pathlib import Path


def register(sub) -> None:
    from slimcore.cli.training import add_runs_dir

    p = sub.add_parser("export", help="write a run's metrics and γ histograms as TensorBoard event files",
                       description="Writes every metric of the run as TensorBoard scalars (train/…, val/…, epoch/…, "
                                   "sparsity/…) and, for every γ snapshot, a histogram of γ per BN layer "
                                   "(gamma/<layer>), of all γ (gamma/all) and of |γ| (abs_gamma/all), into "
                                   "DIR/<run id>/; export several runs into one DIR to compare them side by side. "
                                   "Exporting a run again replaces its earlier event files. Reads the store only. "
                                   "Needs the optional tensorboard package: pip install 'slimcore[tensorboard]'.")
    p.add_argument("run_id", metavar="RUN", help="the run to export (see `slimcore runs`)")
    p.add_argument("--tensorboard", metavar="DIR", required=True,
                   help="TensorBoard log folder; the run goes to DIR/<run id>/ (created if missing)")
    p.add_argument("--json", action="store_true")
    add_runs_dir(p)
    p.set_defaults(func=cmd_export)


def export_tensorboard(store, run_id: str, log_dir: str | Path) -> dict:
    """Writes run `run_id` of `store` to `log_dir`/`run_id`/; returns what `--json` prints."""
    from slimcore.errors import StoreError
    from slimcore.viz.tensorboard import histogram_events, scalar_events, write_events

    run = store.get_run(run_id)
    metrics, snapshots = store.metrics(run_id), store.snapshots(run_id)
    if not metrics and not snapshots:
        raise StoreError(f"run {run_id!r} ({run['kind']}, {run['status']}) has recorded no metrics and no γ "
                         "snapshots yet: nothing to export.")
    scalars = scalar_events(metrics)
    histograms = histogram_events(snapshots, run["layers"])
    folder = Path(log_dir) / run_id
    files = write_events(folder, scalars, histograms)
    return {"run_id": run_id, "dir": str(folder), "scalars": len(scalars), "histograms": len(histograms),
            "files": [str(f) for f in files]}


def cmd_export(args: argparse.Namespace) -> int:
    import shlex

    from slimcore.cli.main import print_json
    from slimcore.cli.training import open_store

    result = export_tensorboard(open_store(args), args.run_id, args.tensorboard)
    if args.json:
        print_json(result)
    else:
        print(f"wrote {result['scalars']} scalars and {result['histograms']} histograms of run {args.run_id} to "
              f"{result['dir']}; view them with `tensorboard --logdir {shlex.quote(args.tensorboard)}`")
    return 0
