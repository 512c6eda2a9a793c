"""The per-layer rule flags of `slimcore preview` and `slimcore prune`: --lock, --max-removed, --min-width, --round-to."""
from __future__ import annotations

import argparse


def add_rule_flags(p: argparse.ArgumentParser) -> None:
    """Adds the flags; `rules_from_args` turns what was given into `LayerRules`."""
    g = p.add_argument_group("per-layer rules (a NAME is a channel group's name or a BN layer in it; "
                             "`slimcore rank RUN` lists them)")
    g.add_argument("--lock", action="append", default=[], metavar="NAME", help="never prune this group (repeatable)")
    g.add_argument("--max-removed", action="append", default=[], metavar="NAME=SHARE",
                   help="remove at most this share of the group's channels, in [0, 1) (repeatable)")
    g.add_argument("--min-width", action="append", default=[], metavar="NAME=N",
                   help="the group keeps at least N channels (repeatable)")
    g.add_argument("--round-to", type=int, default=1, metavar="N",
                   help="every kept width a multiple of N, or the group's full width (default 1: no rounding)")


def _pairs(values: list[str], flag: str, kind: type, what: str) -> dict:
    from slimcore.errors import ConfigError

    out = {}
    for text in values:
        name, sep, value = text.rpartition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            out[name.strip()] = kind(value)
        except ValueError:
            raise ConfigError(f"{flag} wants NAME={what} (e.g. {flag} features.4={'0.5' if kind is float else '8'}), "
                              f"got {text!r}.") from None
    return out


def rules_from_args(args: argparse.Namespace):
    """The `LayerRules` the flags ask for (checked: one ConfigError per bad value)."""
    from slimcore.pruning.math.rules import LayerRules

    return LayerRules(locked=tuple(args.lock), max_removed=_pairs(args.max_removed, "--max-removed", float, "SHARE"),
                      min_width=_pairs(args.min_width, "--min-width", int, "N"), round_to=args.round_to)

