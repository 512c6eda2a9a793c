"""`slimcore import FILE --model NAME --dataset D`: a finished run from weights trained elsewhere (a job)."""
from __future__ import annotations

import argparse
import sys


def register(sub) -> None:
    from slimcore.cli.training import add_runs_dir
    from slimcore.config import TrainConfig
    from slimcore.data import DATASETS
    from slimcore.models import MODELS

    d = TrainConfig.__dataclass_fields__
    i = sub.add_parser("import", help="record a finished run from weights trained elsewhere (no training)",
                       description="Evaluate given weights on val and test and record them as a finished run, "
                                   "with γ as its one snapshot: ready for rank, preview, prune and every page. It "
                                   "runs as a job (kind `import`).")
    i.add_argument("file", nargs="?", default=None, help="a state_dict or checkpoint file (loaded with weights_only)")
    i.add_argument("--model", required=True, help=f"the architecture: one of {', '.join(MODELS.names())}, or "
                                                  "package.module:function / path/to/file.py:function")
    i.add_argument("--dataset", required=True, help=f"one of: {', '.join(DATASETS.names())}")
    i.add_argument("--data-root", default=None, help="data folder (cifar, imagefolder)")
    i.add_argument("--pretrained", action="store_true", help="import torchvision's published weights instead of FILE")
    i.add_argument("--seed", type=int, default=d["seed"].default, help="the data split's seed (default 0)")
    i.add_argument("--device", default=d["device"].default, help="auto (cuda > mps > cpu), cpu, cuda, cuda:N, mps")
    i.add_argument("--label", default="", help="a short name shown with the run")
    i.add_argument("--detach", action="store_true", help="run as a background job and return at once")
    i.add_argument("--json", action="store_true", help="print a JSON object with run_id and the accuracies")
    add_runs_dir(i)
    i.set_defaults(func=cmd_import)


def _echo(done: float, total: int, text: str) -> None:
    print(f"[{done:g}/{total}] {text}", file=sys.stderr, flush=True)


def cmd_import(args: argparse.Namespace) -> int:
    from slimcore import jobs
    from slimcore.cli.main import print_json
    from slimcore.cli.plugins import warn_plugin_failures
    from slimcore.errors import ConfigError
    from slimcore.jobs.imports import import_config
    from slimcore.store import RunStore

    warn_plugin_failures()
    if (args.file is None) == (not args.pretrained):
        raise ConfigError("give the weights file to import (slimcore import FILE --model M --dataset D) or "
                          "--pretrained, not both and not neither.")
    config = import_config(args.model, args.dataset, weights=args.file, pretrained=args.pretrained,
                           data_root=args.data_root, seed=args.seed, device=args.device, label=args.label)
    store = RunStore(args.runs_dir)
    run_id = jobs.create(store, "import", config)  # data, model and weights are checked before it is recorded
    if args.detach:
        pid = jobs.launch(store, run_id)
        if args.json:
            print_json({"run_id": run_id, "pid": pid, "status": "starting", "runs_dir": str(store.root)})
        else:
            print(f"started import {run_id} (pid {pid}); watch it with `slimcore runs`")
        return 0
    print(f"job {run_id}", file=sys.stderr)
    status, message = jobs.run_here(store, run_id, echo=None if args.json else _echo)
    run = store.get_run(run_id)
    summary = run["summary"]
    if args.json:
        print_json({"run_id": run_id, "status": run["status"], "message": run["message"], "runs_dir": str(store.root),
                    **{k: summary.get(k) for k in ("val_accuracy", "test_accuracy", "sparsity@0.01", "sparsity@0",
                                                   "notes", "unprunable")}})
    else:
        for note in summary.get("notes", []):
            print(f"note: {note}", file=sys.stderr)
        print(run_id)
        print(f"{status}: {message}", file=sys.stderr)
    return 0 if status == "finished" else 1
