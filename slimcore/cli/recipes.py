"""`slimcore recipe list`: the seed papers' set-ups and the figures they report."""
from __future__ import annotations

import argparse


def register(sub) -> None:
    r = sub.add_parser("recipe", help="the seed papers' published set-ups (use one with `train --recipe NAME`)",
                       description="Each recipe carries a paper's training set-up, how it then prunes, and the "
                                   "accuracy and reduction the paper reports.")
    rs = r.add_subparsers(dest="recipe_command", metavar="ACTION", parser_class=type(r))
    lst = rs.add_parser("list", help="every recipe with the paper's figures")
    lst.add_argument("--json", action="store_true", help="print JSON on stdout")
    lst.set_defaults(func=cmd_list)
    r.set_defaults(func=lambda args: cmd_list(argparse.Namespace(json=False)))


def describe(recipe) -> dict:
    """A recipe as JSON: its name, paper, training settings, the `slimcore train` line, pruning and figures."""
    flags = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in recipe.train.items() if k != "penalty_params")
    flags += "".join(f" --{k.replace('_', '-')} {v}" for k, v in recipe.train.get("penalty_params", {}).items())
    return {"name": recipe.name, "paper": recipe.paper, "train": dict(recipe.train),
            "command": f"slimcore train --recipe {recipe.name}", "equivalent_flags": flags, "prune": recipe.prune,
            "reported": recipe.reported, "source": recipe.source}


def cmd_list(args: argparse.Namespace) -> int:
    from slimcore.cli.main import print_json
    from slimcore.recipes import RECIPES

    rows = [describe(RECIPES.get(name)) for name in RECIPES.names()]
    if args.json:
        print_json({"recipes": rows})
        return 0
    for row in rows:
        print(f"{row['name']}\n  paper:    {row['paper']}\n  train:    {row['equivalent_flags']}\n"
              f"  prune:    {row['prune']}\n  reported: {row['reported']}\n  source:   {row['source']}\n")
    return 0
