"""`slimcore sensitivity` (`slimcore.cli.sensitivity`): one-line errors with exit 2, the JSON and the table of the
stored scan, a second call read back from the store, and the scan as a background job."""
from __future__ import annotations

import json

import pytest

from slimcore.cli.main import main
from slimcore.cli.sensitivity import parse_shares
from slimcore.pruning.sensitivity import accuracy_drops, scan_sensitivity
from slimcore.pruning.settings import SensitivitySettings


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv, message", [
    (["RUN", "--ranking", "gamma"], "unknown ranking 'gamma'. Valid rankings: bn, bn-mean, bn-sum, l1norm, legr, tpp."),
    (["RUN", "--shares", "0.1,x"], "--shares wants comma-separated numbers in (0, 1) such as 0.1,0.5,0.9, got '0.1,x'."),
    (["RUN", "--shares", ""], "--shares wants comma-separated numbers"),
    (["RUN", "--shares", "0,0.5"], "shares must be 1 to 99 numbers in (0, 1)"),
    (["RUN", "--shares", "0.5,1"], "shares must be 1 to 99 numbers in (0, 1)"),
    (["missing-run"], "no run 'missing-run' in"),
])
def test_bad_input_is_one_line_and_exit_2(digits_run, capsys, argv, message):
    store, run_id = digits_run
    before = len(store.list_runs())
    code, out, err = run_cli(capsys, "sensitivity", *[run_id if a == "RUN" else a for a in argv], "--json",
                             "--runs-dir", str(store.root))
    assert code == 2 and out == "" and err.startswith("slimcore: error:") and err.count("\n") == 1
    assert message in err and len(store.list_runs()) == before


def test_shares_parse_from_a_comma_separated_list():
    assert parse_shares("0.1,0.5") == (0.1, 0.5) and parse_shares(" 0.25 ") == (0.25,)


def test_the_json_is_the_stored_scan_without_scores_and_the_second_call_reads_it_back(digits_run, capsys):
    store, run_id = digits_run
    args = ["sensitivity", run_id, "--shares", "0.2,0.7", "--json", "--runs-dir", str(store.root)]
    code, out, _ = run_cli(capsys, *args, "--recompute")
    scan = json.loads(out)
    assert code == 0 and scan["cached"] is False
    assert set(scan) >= {"run_id", "ranking", "shares", "groups", "base_accuracy", "seconds", "cached"}
    assert (scan["run_id"], scan["ranking"], scan["shares"]) == (run_id, "bn", [0.2, 0.7])
    for group in scan["groups"]:
        assert set(group) == {"name", "bns", "width", "points"}
        assert [set(p) for p in group["points"]] == [{"share", "removed", "accuracy", "flops_ratio"}] * 2
    stored = scan_sensitivity(store, run_id, SensitivitySettings(shares=(0.2, 0.7)))
    assert stored["cached"] and [g["points"] for g in stored["groups"]] == [g["points"] for g in scan["groups"]]
    code, out, _ = run_cli(capsys, *args)
    again = json.loads(out)
    assert code == 0 and again["cached"] is True and again["groups"] == scan["groups"]


def test_the_table_has_a_row_per_group_with_its_accuracy_drops(digits_run, capsys):
    store, run_id = digits_run
    code, out, _ = run_cli(capsys, "sensitivity", run_id, "--shares", "0.2,0.7", "--runs-dir", str(store.root))
    lines = out.splitlines()
    scan = scan_sensitivity(store, run_id, SensitivitySettings(shares=(0.2, 0.7)))
    drops = accuracy_drops(scan)
    assert code == 0 and lines[1].split() == ["group", "width", "20%", "70%"] and len(lines) == 2 + len(scan["groups"])
    for line, group, row in zip(lines[2:], scan["groups"], drops["drops"]):
        assert line.split() == [group["name"], str(group["width"]), *(f"{d:+.3f}" for d in row)]


@pytest.mark.slow
def test_detach_runs_the_scan_in_the_background(digits_run, capsys):
    from conftest import job_log, wait_for_status

    store, run_id = digits_run
    code, out, _ = run_cli(capsys, "sensitivity", run_id, "--shares", "0.35", "--detach", "--json",
                           "--runs-dir", str(store.root))
    started = json.loads(out)
    assert code == 0 and (started["kind"], started["parent"]) == ("sensitivity", run_id)
    run = wait_for_status(store, started["run_id"], ("finished", "failed", "stopped"), timeout=240)
    assert run["status"] == "finished", job_log(store, started["run_id"])
    assert scan_sensitivity(store, run_id, SensitivitySettings(shares=(0.35,)))["cached"] is True
