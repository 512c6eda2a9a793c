"""`slimcore recipe list` and `slimcore train --recipe NAME` (`slimcore.cli.recipes`, `slimcore.cli.training`):
the list shows each paper's figures; a recipe trains end to end at tiny scale with its settings, any flag given
overriding one."""
from __future__ import annotations

import json

import pytest

from slimcore.cli.main import main
from slimcore.recipes import RECIPES
from slimcore.store import RunStore

FAST = ("slimming-vgg19-cifar10", "ista-resnet20-cifar10", "tpp-resnet56-cifar10")


def test_recipe_list_shows_every_recipe_with_the_papers_figures(capsys):
    assert main(["recipe", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["recipes"]
    assert [r["name"] for r in rows] == RECIPES.names()
    vgg = next(r for r in rows if r["name"] == "slimming-vgg19-cifar10")
    assert "93.66 %" in vgg["reported"] and vgg["command"] == "slimcore train --recipe slimming-vgg19-cifar10"
    assert "--lam 0.0001" in vgg["equivalent_flags"] and "--mode subgradient" in vgg["equivalent_flags"]
    assert main(["recipe", "list"]) == 0
    text = capsys.readouterr().out
    assert all(name in text for name in RECIPES.names()) and "reported:" in text


@pytest.mark.parametrize("name", [n if n in FAST else pytest.param(n, marks=pytest.mark.slow)
                                  for n in RECIPES.names()])
def test_each_recipe_trains_end_to_end_at_tiny_scale(name, runs_dir, capsys):
    """The paper's set-up on the 8×8 digits for one epoch: every other setting is the recipe's."""
    code = main(["train", "--recipe", name, "--dataset", "digits", "--epochs", "1", "--runs-dir", str(runs_dir),
                 "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    run = RunStore(runs_dir).get_run(json.loads(out)["run_id"])
    recipe = RECIPES.get(name).train
    assert run["status"] == "finished" and run["config"]["dataset"] == "digits" and run["config"]["epochs"] == 1
    for key in ("model", "penalty", "lam", "lr", "momentum", "weight_decay", "batch_size", "schedule"):
        assert run["config"][key] == recipe[key], key
    assert run["config"]["penalty_params"].items() >= recipe.get("penalty_params", {}).items()
    assert run["config"]["label"] == f"recipe {name}"


def test_a_flag_given_with_a_recipe_wins_and_another_penalty_drops_the_recipes_lam(runs_dir, capsys):
    from slimcore.cli.main import build_parser
    from slimcore.cli.training import config_from_args

    args = build_parser().parse_args(["train", "--recipe", "slimming-vgg19-cifar10", "--lr", "0.02",
                                      "--penalty", "tl1"])
    config = config_from_args(args)
    assert (config.model, config.lr, config.epochs, config.penalty) == ("vgg19", 0.02, 160, "tl1")
    assert config.lam == 0.01 and config.penalty_params["mode"] == "proximal"  # tl1's own defaults
    bad = main(["train", "--recipe", "slimming", "--runs-dir", str(runs_dir)])
    err = capsys.readouterr().err
    assert bad == 2 and "unknown recipe 'slimming'" in err and err.count("\n") == 1
