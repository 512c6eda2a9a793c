"""`slimcore latency` and `slimcore prune --latency-ms`: timings as JSON, in preview's points, and a commit whose
measured latency meets the target within the measurement's spread; bad input is one line, exit 2."""
from __future__ import annotations

import json
import time

import pytest

from slimcore.cli.main import main
from slimcore.pruning.timing import BACKENDS, Backend


class SleepsByFlops(Backend):
    """A backend whose latency is known in advance: it sleeps 2 ms per MFLOP of the model (plus 1 ms)."""

    name = "sleep"

    def prepare(self, model, input_shape, batch):
        from slimcore.analysis.shapes import layer_shapes
        from slimcore.pruning.math.flops import network_macs

        ms = 1.0 + 2.0 * 2 * network_macs(layer_shapes(model, input_shape)) / 1e6
        return lambda: time.sleep(ms / 1000.0)


@pytest.fixture
def sleep_backend():
    BACKENDS.register("sleep", help="test backend")(SleepsByFlops)
    yield "sleep"
    BACKENDS.unregister("sleep")


def test_latency_json_preview_points_and_a_latency_target(digits_run, sleep_backend, tmp_path, capsys):
    store, run_id = digits_run
    runs = str(store.root)
    assert main(["latency", run_id, "--points", "4", "--backend", "sleep", "--repeats", "5", "--batch", "2", "--json",
                 "--runs-dir", runs]) == 0
    timings = json.loads(capsys.readouterr().out)
    ms = [timings["base"]["latency_ms"]["sleep"]["batch1"]] + [p["latency_ms"]["sleep"]["batch1"] for p in timings["points"]]
    assert ms[0] == max(ms) and ms[-1] == min(ms)
    assert main(["preview", run_id, "--points", "4", "--json", "--runs-dir", runs]) == 0
    curve = json.loads(capsys.readouterr().out)
    assert all("sleep" in p["latency_ms"] for p in curve["points"])
    target = (ms[1] + ms[2]) / 2
    assert main(["prune", run_id, "--latency-ms", str(target), "--backend", "sleep", "--out", str(tmp_path / "p"),
                 "--json", "--runs-dir", runs]) == 0
    report = json.loads(capsys.readouterr().out)
    got = report["latency_target"]
    assert got["point_ms"] <= target and got["threshold"] == timings["points"][1]["threshold"]
    assert got["measured_ms"] <= target + max(got["point_spread_ms"], got["measured_spread_ms"], 0.5)


@pytest.mark.parametrize("args, says", [
    (["--latency-ms", "1", "--threshold", "0.1"], "one of --threshold, --flops-ratio or --latency-ms"),
    (["--latency-ms", "1", "--backend", "onnxruntime", "--ranking", "l1norm"], "has no timings on onnxruntime"),
    (["--latency-ms", "1", "--latency-batch", "0"], "--latency-batch must be at least 1"),
])
def test_bad_latency_targets_are_one_line_exit_2(digits_run, capsys, args, says):
    store, run_id = digits_run
    before = len(store.list_runs())
    assert main(["prune", run_id, *args, "--runs-dir", str(store.root)]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1
    assert len(store.list_runs()) == before


def test_latency_refuses_an_unknown_backend(digits_run, capsys):
    store, run_id = digits_run
    assert main(["latency", run_id, "--backend", "tpu", "--runs-dir", str(store.root)]) == 2
    assert "unknown latency backend 'tpu'" in capsys.readouterr().err
