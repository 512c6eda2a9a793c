"""The papers' recipes (`slimcore.recipes`): every recipe is a valid training set-up that names its paper, how it
prunes and what the paper reports; the registry lists them."""
from __future__ import annotations

import pytest

from slimcore.config import TrainConfig
from slimcore.errors import ConfigError
from slimcore.recipes import RECIPES


@pytest.mark.parametrize("name", RECIPES.names())
def test_every_recipe_is_a_valid_config_with_its_papers_figures(name):
    recipe = RECIPES.get(name)
    config = TrainConfig(**recipe.train)
    assert config.epochs >= 100 and config.dataset.startswith("cifar")  # the paper's scale, not ours
    assert recipe.paper and recipe.prune and recipe.reported and recipe.source
    assert RECIPES.describe(name) == recipe.paper


def test_the_recipes_cover_every_seed_paper():
    papers = " ".join(RECIPES.get(n).paper for n in RECIPES.names())
    for author in ("Liu", "Bui", "Ye", "Wang & Fu", "Chin"):
        assert author in papers
    slimming = RECIPES.get("slimming-vgg19-cifar10").train
    assert (slimming["lam"], slimming["epochs"], slimming["lr"], slimming["schedule"]) == (1e-4, 160, 0.1, "step")


def test_an_unknown_recipe_names_the_valid_ones():
    with pytest.raises(ConfigError, match="unknown recipe 'slimming'.*Valid recipes: ista-resnet20-cifar10"):
        RECIPES.get("slimming")
