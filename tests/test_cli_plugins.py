"""`slimcore plugins`: what installed packages registered, and what failed, in words and as JSON."""
from __future__ import annotations

import json

from own_models_support import installed, write_package
from slimcore.cli.main import main


def test_no_plugins_says_how_to_register_one(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "no plugins installed" in out and "slimcore.models" in out


def test_loaded_and_failed_entries_are_listed(tmp_path, capsys):
    folder = write_package(tmp_path, entry_points={"slimcore.models": {"twopath": "slimtestpkg.models:build",
                                                                        "gone": "slimtestpkg.gone:build"}})
    with installed(folder):
        assert main(["plugins"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert any(line.split()[:3] == ["model", "twopath", "slimtestpkg.models:build"] for line in lines)
        assert any("gone" in line and "FAILED" in line and "ModuleNotFoundError" in line for line in lines)
        assert main(["plugins", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert [f["name"] for f in out["failed"]] == ["gone"]


def test_a_failed_plugin_is_a_warning_on_train_not_an_error(tmp_path, capsys):
    folder = write_package(tmp_path, entry_points={"slimcore.models": {"gone": "slimtestpkg.gone:build"}})
    with installed(folder):
        assert main(["train", "--dataset", "nosuch"]) == 2
        err = capsys.readouterr().err
        assert err.splitlines()[0].startswith("warning: model plugin 'gone'")
        assert "unknown dataset 'nosuch'" in err.splitlines()[1]
