"""`slimcore train | resume` (`slimcore.cli.training`): bad flags are one line with exit 2 and write nothing, the
flags and help come from the registries, and a trained run is listed."""
from __future__ import annotations

import json

import pytest

from slimcore.cli.main import main
from slimcore.config import TrainConfig


@pytest.mark.parametrize("args, message", [
    (["--model", "nope"], "unknown model 'nope'"),
    (["--dataset", "nope"], "unknown dataset 'nope'"),
    (["--penalty", "nope"], "unknown penalty 'nope'"),
    (["--lam", "-1"], "lam must be >= 0"),
    (["--lam", "nan"], "lam must be a finite number, got nan."),
    (["--epochs", "0"], "epochs must be >= 1"),
    (["--lr", "inf"], "lr must be a finite number, got inf."),
    (["--model", ""], "model must be a non-empty name, got ''."),
    (["--penalty", "lp", "--p", "2"], "penalty 'lp': p must be a number in (0, 1), got '2'."),
])
def test_bad_train_flags_exit_2_with_one_line_and_write_nothing(tmp_path, capsys, args, message):
    runs = tmp_path / "runs"
    code = main(["train", *args, "--runs-dir", str(runs)])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not runs.exists()


def test_help_lists_registry_names(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for name in ("slimnet", "vgg19", "resnet56", "mnist5k", "cifar10", "tl1", "ista", "tpp"):
        assert name in out


def test_train_then_runs_json(tmp_path, capsys):
    code = main(["train", "--dataset", "digits", "--epochs", "3", "--penalty", "l1", "--lam", "1e-4",
                 "--json", "--runs-dir", str(tmp_path)])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["status"] == "finished" and payload["val_accuracy"] > 0.5
    assert main(["runs", "--json", "--runs-dir", str(tmp_path)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in rows] == [payload["run_id"]]
    assert rows[0]["penalty"] == "l1" and rows[0]["lam"] == 1e-4 and rows[0]["status"] == "finished"


def test_compile_flag_is_validated_and_reaches_the_cli():
    from slimcore.cli.main import build_parser
    from slimcore.cli.training import config_from_args
    from slimcore.errors import ConfigError

    args = build_parser().parse_args(["train", "--compile"])
    assert config_from_args(args).compile is True
    with pytest.raises(ConfigError, match="compile"):
        TrainConfig(compile="yes")
