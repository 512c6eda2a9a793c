"""Entry point of a background job of any kind: `python -m slimcore.jobs.worker --runs-dir D RUN [--resume]`.

The SIGTERM handler is installed before the slow imports, so a stop that arrives while the job is still
starting is honoured as a clean stop instead of killing the process (and a stop asked even earlier, before
this process answered signals at all, is read from the store: `control.listen`).
"""
from __future__ import annotations

import argparse
import signal
import sys

_stop = {"requested": False}


def _request_stop(signum, frame) -> None:
    _stop["requested"] = True


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)
    parser = argparse.ArgumentParser(prog="python -m slimcore.jobs.worker")
    parser.add_argument("run_id")
    parser.add_argument("--runs-dir", required=True)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)

    from slimcore.errors import SlimcoreError
    from slimcore.jobs import run_here
    from slimcore.store import RunStore

    store = RunStore(args.runs_dir)
    try:
        status, _ = run_here(store, args.run_id, resume=args.resume, stop_flag=_stop)
    except SlimcoreError as e:
        print(f"slimcore: error: {e}", file=sys.stderr)
        return 2
    return 0 if status in ("finished", "stopped") else 1


if __name__ == "__main__":
    sys.exit(main())
