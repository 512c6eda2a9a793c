"""The data-set registry and `load_dataset` (`slimcore.data.factory`): every loader listed with help, unknown names
and options refused by name, built-in sets refuse a data folder instead of ignoring it."""
from __future__ import annotations

from pathlib import Path

import pytest

from slimcore.data import DATASETS, default_root, list_datasets, load_dataset
from slimcore.errors import ConfigError


def test_registry_lists_every_dataset() -> None:
    assert set(list_datasets()) == {"mnist5k", "digits", "cifar10", "cifar100", "imagefolder", "synthetic"}
    with pytest.raises(ConfigError, match=r"^unknown dataset 'mnist'\. Did you mean 'mnist5k'\? Valid datasets: "):
        load_dataset("mnist")


def test_unknown_option_is_config_error() -> None:
    with pytest.raises(ConfigError, match="image_size"):
        load_dataset("digits", image_size=16)


def test_registered_loaders_have_help() -> None:
    assert all(DATASETS.describe(n) for n in DATASETS.names())


@pytest.mark.parametrize("name", ["mnist5k", "digits", "synthetic"])
def test_a_data_folder_given_to_a_built_in_data_set_is_refused_not_ignored(name, tmp_path):
    with pytest.raises(ConfigError, match="reads no data folder.*imagefolder"):
        load_dataset(name, root=tmp_path)


def test_options_and_the_seed_are_checked_before_the_loader_runs():
    with pytest.raises(ConfigError, match=r"^dataset 'digits' has no option image_size; its options: none\.$"):
        load_dataset("digits", image_size=16)
    with pytest.raises(ConfigError, match=r"^dataset 'synthetic' has no option colour; its options: train_size, "
                                          r"image_size\.$"):
        load_dataset("synthetic", colour=1)
    for seed in (1.0, "1", True, None):
        with pytest.raises(ConfigError, match=f"seed must be an integer, got {seed!r}"):
            load_dataset("digits", seed=seed)


def test_the_download_folder_is_the_environment_or_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("SLIMCORE_DATA", str(tmp_path / "data"))
    assert default_root() == tmp_path / "data"
    monkeypatch.setenv("SLIMCORE_DATA", "~/somewhere")
    assert default_root() == Path.home() / "somewhere"
    monkeypatch.delenv("SLIMCORE_DATA")
    assert default_root() == Path.home() / ".cache" / "slimcore" / "data"
