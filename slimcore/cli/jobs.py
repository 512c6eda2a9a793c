"""`slimcore runs | stop`: every job in the store, of every kind, and a graceful stop for any of them."""
from __future__ import annotations

import argparse
import time


def register(sub) -> None:
    from slimcore.cli.training import add_runs_dir

    r = sub.add_parser("runs", help="list the runs in the store: training runs and the jobs on them",
                       description="Every run in the store, newest first: training runs and the jobs on them "
                                   "(search, curve, prune), with status and progress.")
    r.add_argument("--kind", default=None, help="only runs of this kind (train, search, curve, prune)")
    r.add_argument("--json", action="store_true")
    add_runs_dir(r)
    r.set_defaults(func=cmd_runs)

    s = sub.add_parser("stop", help="stop a running job of any kind gracefully",
                       description="A training checkpoints first; a LeGR search keeps its best candidate; a prune "
                                   "job's fine-tuning keeps its last whole epoch and exports it; a curve stops "
                                   "without storing a partial curve.")
    s.add_argument("run_id")
    s.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the job to stop (0: don't)")
    add_runs_dir(s)
    s.set_defaults(func=cmd_stop)


def cmd_runs(args: argparse.Namespace) -> int:
    from slimcore import jobs
    from slimcore.cli.main import print_json
    from slimcore.store import RunStore

    if args.kind is not None:
        jobs.JOBS.get(args.kind)
    store = RunStore(args.runs_dir)
    every = jobs.runs(store)
    by_id = {r["id"]: r for r in every}
    rows = [run_row(run, by_id.get(run["parent"])) for run in every if args.kind in (None, run["kind"])]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print(f"no runs in {store.root}; start one with `slimcore train`.")
        return 0
    print(f"{'run':<44} {'kind':<6} {'status':<11} {'done':>5} {'model':<12} {'penalty':<7} {'lam':>7} "
          f"{'acc':>7} {'|γ|<1e-2':>8}  message")
    for r in rows:
        acc = r["val_accuracy"] if r["test_accuracy"] is None else r["test_accuracy"]
        sp = "" if r["sparsity@0.01"] is None else f"{r['sparsity@0.01']:.1%}"
        lam = "" if r["lam"] is None else f"{r['lam']:g}"
        print(f"{r['run_id']:<44} {r['kind']:<6} {r['status']:<11} {r['progress']:>5.0%} {str(r['model']):<12} "
              f"{str(r['penalty']):<7} {lam:>7} {'' if acc is None else f'{acc:.4f}':>7} {sp:>8}  "
              f"{r['progress_message'] if r['status'] in ('starting', 'running') else r['message']}")
        for finding in r["health"]:
            print(f"{'':<44} ! {finding['problem']}: {finding['message']}")
    return 0


def run_row(run: dict, parent: dict | None = None) -> dict:
    """One run as the flat JSON object `slimcore runs --json` prints; a job on a training run shows that run's
    model, data set and penalty."""
    from slimcore.training.health import assess  # here: `slimcore.training` loads torch, the CLI starts without it

    from slimcore.jobs import holds_model

    summary = run["summary"]
    own_model = holds_model(run)  # a training or import run; the other jobs work on one
    source = run["config"] if own_model else (parent or {}).get("config", {})
    return {
        "run_id": run["id"], "kind": run["kind"], "parent": run["parent"], "status": run["status"],
        "message": run["message"], "pid": run["pid"], "progress": run["progress"],
        "progress_done": run["done"], "progress_total": run["total"], "progress_message": run["progress_message"],
        "created": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run["created"])),
        "model": source.get("model"), "dataset": source.get("dataset"), "penalty": source.get("penalty"),
        "lam": source.get("lam"), "penalty_params": source.get("penalty_params"), "epochs": source.get("epochs"),
        "epoch": summary.get("epoch"), "val_accuracy": summary.get("val_accuracy"),
        "test_accuracy": summary.get("test_accuracy"),
        "sparsity@0.01": summary.get("sparsity@0.01"), "sparsity@0": summary.get("sparsity@0"),
        "settings": None if own_model else run["config"],
        "health": assess(summary, run["config"], run["status"]) if own_model else [],
        "notes": summary.get("notes", []), "unprunable": summary.get("unprunable"),
    }


def cmd_stop(args: argparse.Namespace) -> int:
    from slimcore import jobs
    from slimcore.cli.training import open_store

    store = open_store(args)
    jobs.stop(store, args.run_id)
    deadline = time.time() + max(args.wait, 0)
    while time.time() < deadline and jobs.is_active(jobs.view(store, args.run_id)):
        time.sleep(0.2)
    run = jobs.view(store, args.run_id)
    print(f"run {args.run_id}: {run['status']}" + (f" ({run['message']})" if run["message"] else ""))
    return 0
