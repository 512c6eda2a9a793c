"""`slimcore plugins`: the models and data sets other installed packages registered, and those that failed."""
from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser("plugins", help="models and data sets registered by installed packages (entry points)",
                       description="Entry points of the groups `slimcore.models` and `slimcore.datasets`: those "
                                   "loaded (usable like built-in ones) and those that failed, with why.")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_plugins)


def cmd_plugins(args: argparse.Namespace) -> int:
    from slimcore import plugins
    from slimcore.cli.main import print_json

    loaded, failed = plugins.loaded(), plugins.failures()
    if args.json:
        print_json({"loaded": loaded, "failed": failed})
        return 0
    if not loaded and not failed:
        print("no plugins installed; a package registers models under the entry-point group `slimcore.models` "
              "and data sets under `slimcore.datasets` (README: \"Prune your own model\").")
    for p in loaded:
        print(f"{p['kind']:<8} {p['name']:<20} {p['target']}")
    for f in failed:
        print(f"{f['kind']:<8} {f['name']:<20} FAILED: {f['target']}: {f['reason']}")
    return 0


def plugin_failures_text() -> str:
    """The entry points that failed to load, one warning line each (empty when all loaded)."""
    from slimcore.plugins import failures

    return "\n".join(f"warning: {f['kind']} plugin {f['name']!r} ({f['target']}) failed to load: {f['reason']}"
                     for f in failures())


def warn_plugin_failures() -> None:
    """Prints the failed entry points on stderr, so a user learns why a model is missing from the list."""
    import sys

    text = plugin_failures_text()
    if text:
        print(text, file=sys.stderr)
