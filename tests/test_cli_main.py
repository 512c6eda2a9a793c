"""The `slimcore` entry point (`slimcore.cli.main`): our errors and argparse's alike become one line on stderr and
exit 2, whatever control characters they carry; JSON on stdout is strict."""
from __future__ import annotations

import json
import math

import pytest

import slimcore.cli.jobs as cli_jobs
from slimcore.cli.main import main, one_line, print_json


def test_argparse_errors_also_exit_2(tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--epochs", "three", "--runs-dir", str(tmp_path)])
    assert exc.value.code == 2


def test_stop_and_resume_of_unknown_runs_are_clear(tmp_path, capsys):
    assert main(["stop", "nope", "--runs-dir", str(tmp_path)]) == 2
    assert main(["resume", "../x", "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no run 'nope'" in err and "invalid run id" in err


def test_control_characters_are_written_as_escapes_so_an_error_stays_one_line():
    assert one_line("no run 'a\nb\tc\x1b' here") == "no run 'a\\nb\\tc\\x1b' here"
    assert one_line("ünïcode · γ stays") == "ünïcode · γ stays"


def test_a_run_id_with_a_newline_is_one_error_line(tmp_path, capsys):
    assert main(["stop", "a\nb", "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == "slimcore: error: invalid run id 'a\\nb': use letters, digits, '.', '_' and '-' only " \
                  "(list runs with `slimcore runs`).\n"


def test_json_output_is_strict_with_non_finite_numbers_as_null(capsys):
    print_json({"accuracy": math.nan, "flops": [1.0, math.inf, -math.inf], "name": "x"})
    out = capsys.readouterr().out
    assert json.loads(out, parse_constant=lambda c: pytest.fail(f"non-strict JSON token {c}")) == {
        "accuracy": None, "flops": [1.0, None, None], "name": "x"}


def test_no_command_prints_the_help_and_exits_2(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    assert out.startswith("usage: slimcore") and all(c in out for c in ("train", "resume", "runs", "stop", "rank",
                                                                          "preview", "prune", "evaluate"))


@pytest.mark.parametrize("raised, code, err", [(KeyboardInterrupt(), 130, "slimcore: interrupted\n"),
                                               (BrokenPipeError(), 1, "")])
def test_ctrl_c_and_a_closed_pipe_end_without_a_traceback(monkeypatch, capsys, tmp_path, raised, code, err):
    def interrupted(args):
        raise raised

    monkeypatch.setattr(cli_jobs, "cmd_runs", interrupted)
    devnull = open("/dev/null", "w")  # a broken pipe points stdout at /dev/null: give it a real file to do so on
    monkeypatch.setattr("sys.stdout", devnull)
    try:
        assert main(["runs", "--runs-dir", str(tmp_path)]) == code
    finally:
        devnull.close()
    assert capsys.readouterr().err == err
