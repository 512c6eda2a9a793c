"""`slimcore` entry point: builds the parser from the sub-command modules and turns our errors into exit 2."""
from __future__ import annotations

import argparse
import json
import os
import sys

from slimcore.errors import SlimcoreError
from slimcore.jsonsafe import json_safe

# Each module contributes `register(subparsers)`; its parsers set `func`.
COMMAND_MODULES = ("slimcore.cli.training", "slimcore.cli.jobs", "slimcore.cli.pruning", "slimcore.cli.recipes",
                   "slimcore.cli.export", "slimcore.cli.plugins", "slimcore.cli.imports",
                   "slimcore.cli.sensitivity", "slimcore.cli.latency")


def one_line(text: str) -> str:
    """`text` with newlines and other control characters written as escapes (a user's `$'\\n'` argument can
    end up in a message), so an error is always exactly one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, as for our own errors
        if message.endswith("expected one argument"):  # argparse reads `--lam -1e-3` as two flags
            message += " (write a value that starts with '-' as --flag=VALUE, e.g. --lam=-1e-3)"
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = _Parser(prog="slimcore", description="Train CNNs toward sparse BN γ, preview and commit channel pruning.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def print_json(value) -> None:
    """JSON on stdout; NaN/inf become null so the output is valid JSON."""
    print(json.dumps(json_safe(value), indent=2))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except SlimcoreError as e:
        print(f"slimcore: error: {one_line(str(e))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("slimcore: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout went to a program that stopped reading (`slimcore runs | head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's own advice: no error at exit
        return 1


if __name__ == "__main__":
    sys.exit(main())
