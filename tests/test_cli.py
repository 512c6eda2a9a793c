import json
import subprocess
import sys

import pytest

from slimcore.cli.main import main


def run_cli(*args, runs_dir=None):
    cmd = [sys.executable, "-m", "slimcore", *args]
    if runs_dir is not None:
        cmd += ["--runs-dir", str(runs_dir)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("args, message", [
    (["--model", "nope"], "unknown model 'nope'"),
    (["--dataset", "nope"], "unknown dataset 'nope'"),
    (["--penalty", "nope"], "unknown penalty 'nope'"),
    (["--lam", "-1"], "lam must be >= 0"),
    (["--lam", "nan"], "finite"),
    (["--epochs", "0"], "epochs must be >= 1"),
    (["--lr", "inf"], "finite"),
    (["--model", ""], "non-empty"),
    (["--penalty", "lp", "--p", "2"], "p"),
])
def test_bad_train_flags_exit_2_with_one_line_and_write_nothing(tmp_path, capsys, args, message):
    runs = tmp_path / "runs"
    code = main(["train", *args, "--runs-dir", str(runs)])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not runs.exists()


def test_argparse_errors_also_exit_2(tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--epochs", "three", "--runs-dir", str(tmp_path)])
    assert exc.value.code == 2


def test_help_lists_registry_names(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for name in ("slimnet", "vgg19", "resnet56", "mnist5k", "cifar10", "tl1", "ista", "tpp"):
        assert name in out


def test_stop_and_resume_of_unknown_runs_are_clear(tmp_path, capsys):
    assert main(["stop", "nope", "--runs-dir", str(tmp_path)]) == 2
    assert main(["resume", "../x", "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no run 'nope'" in err and "invalid run id" in err


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
