"""The Prune page's per-layer parts under AppTest (issue 17): rules from the table reach the browser's numbers and
the commit, a bad cell is one red line, the sensitivity heatmap follows its job and marks the threshold's cut, and
the target-latency box (once the curve is timed) moves to a plan at or below the target."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from apptest_support import wait_for_job
from threshold_support import control_data

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory) -> tuple[Path, str]:
    """(store root, run id): slimnet on the 8×8 digits, one epoch, ℓ1 proximal, its plain |γ| curve stored."""
    from slimcore import jobs
    from slimcore.config import TrainConfig
    from slimcore.pruning import get_curve
    from slimcore.store import RunStore

    root = tmp_path_factory.mktemp("prune-layers") / "runs"
    store = RunStore(root)
    config = TrainConfig(dataset="digits", epochs=1, batch_size=64, lr=0.05, snapshot_every=5, penalty="l1",
                         lam=3e-3, penalty_params={"mode": "proximal"}, seed=0)
    run_id = jobs.create_run(store, config)
    assert jobs.run_training(store, run_id)[0] == "finished"
    get_curve(store, run_id, ranking="bn")
    store.close()
    return root, run_id


@pytest.fixture
def studio(trained_dir, monkeypatch):
    from slimcore.store import RunStore

    root, run_id = trained_dir
    monkeypatch.setenv("SLIMCORE_RUNS_DIR", str(root))
    return RunStore(root), run_id


def prune_page(run_id: str, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).switch_page("pages/2_Prune.py")
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def edits(rows: dict[int, dict]) -> dict:
    """The state a data editor holds after the user edited these cells."""
    return {"edited_rows": {str(i): cells for i, cells in rows.items()}, "added_rows": [], "deleted_rows": []}


def box(at: AppTest, label: str):
    found = [n for n in at.number_input if n.label == label]
    assert len(found) == 1, [n.label for n in at.number_input]
    return found[0]


def test_a_locked_group_keeps_its_full_width_in_the_preview_and_in_the_commit(studio):
    from slimcore import jobs
    from slimcore.pruning.browser_preview import PayloadPreview
    from slimcore.pruning.math.rules import LayerRules
    from slimcore.pruning.settings import CurveSettings

    store, run_id = studio
    at = prune_page(run_id)
    plain = PayloadPreview(control_data(at)["payload"])
    groups = plain.payload["groups"]
    smallest = plain.numbers_at(float(plain.thresholds[-1]))
    # lock the group the smallest plan cuts hardest, and round every kept width to a multiple of 4
    cut = [g["width"] - k for g, k in zip(groups, smallest["keeps"])]
    locked = groups[int(np.argmax(cut))]
    assert max(cut) > 0
    at.session_state[f"p:rules:table:{run_id}"] = edits({int(np.argmax(cut)): {"lock": True}})
    box(at, "round kept widths to a multiple of").set_value(4)
    next(b for b in at.button if b.label == "Apply rules").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    rules = LayerRules(locked=(locked["name"],), round_to=4)
    curve_job = jobs.latest(store, "curve", run_id)  # another curve: computed by a job, the page follows it
    assert CurveSettings.from_dict(curve_job["config"]).rules == rules
    wait_for_job(at, store, "curve", run_id)
    data = control_data(at)
    assert data["payload"]["rules"] == rules.to_dict()
    preview = PayloadPreview(data["payload"])
    for t in (preview.thresholds[-1], preview.thresholds[len(preview.thresholds) // 2]):
        numbers = preview.numbers_at(float(t))
        keeps = dict(zip([g["name"] for g in groups], numbers["keeps"]))
        assert keeps[locked["name"]] == locked["width"]
        assert all(numbers["widths"][bn] == locked["width"] for bn in locked["bns"])
        assert all(k == g["width"] or k % 4 == 0 for g, k in zip(groups, numbers["keeps"]))
    assert any("locked" in c.value and locked["name"] in c.value for c in at.caption)
    # the commit the page builds is cut under the same rules
    at.button(key="p:commit").click().run()
    assert not at.exception, [e.message for e in at.exception]
    prune = jobs.latest(store, "prune", run_id)
    try:
        assert prune is not None and LayerRules.from_dict(prune["config"]["rules"]) == rules
        assert prune["config"]["threshold"] == float(data["selected"]["t"])
    finally:
        if prune is not None and jobs.is_active(prune):
            jobs.stop(store, prune["id"])
    # the rules stay in force across reruns and a fresh table
    at.run()
    assert control_data(at)["payload"]["rules"] == rules.to_dict()


def test_a_bad_cell_is_one_red_line_naming_it_and_the_rules_in_force_stay(studio):
    from slimcore import jobs

    store, run_id = studio
    before = [r["id"] for r in store.list_runs(kind="curve")]
    at = prune_page(run_id, **{f"p:rules:table:{run_id}": edits({0: {"max removed share": 1.5}})})
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "max removed share of features.0" in errors[0] and "[0, 1)" in errors[0], errors
    assert "\n" not in errors[0] and "--" not in errors[0]
    assert control_data(at)["payload"]["rules"]["max_removed"] == {}  # nothing was applied
    assert [r["id"] for r in store.list_runs(kind="curve")] == before and jobs.latest(store, "curve", run_id)


def test_the_heatmap_appears_after_the_sensitivity_job_with_the_thresholds_cut_over_it(studio):
    from slimcore.pruning.sensitivity import accuracy_drops, removed_shares, stored_sensitivity
    from slimcore.pruning.settings import SensitivitySettings

    store, run_id = studio
    at = prune_page(run_id)
    assert not at.get("plotly_chart")
    at.button(key="p:sensitivity").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    wait_for_job(at, store, "sensitivity", run_id)
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    fig = json.loads(charts[0].proto.spec)
    heat, marks = fig["data"]
    scan = stored_sensitivity(store, run_id, SensitivitySettings())
    drops = accuracy_drops(scan)
    assert heat["type"] == "heatmap" and heat["y"] == drops["groups"] and np.allclose(heat["z"], drops["drops"])
    t = float(control_data(at)["selected"]["t"])
    assert marks["name"] == "this threshold removes" and marks["x"] == pytest.approx(removed_shares(scan, t))
    # the threshold moves (the FLOPs box): the marks follow it
    box(at, "or target FLOPs %").set_value(30.0).run()
    t2 = float(control_data(at)["selected"]["t"])
    marks = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][1]
    assert t2 != t and marks["x"] == pytest.approx(removed_shares(scan, t2))


def test_the_target_latency_box_moves_to_a_plan_whose_latency_is_at_or_below_it(studio):
    from slimcore.pruning.browser_preview import PayloadPreview, latency_at_positions
    from slimcore.pruning.latency_curve import current_latency, estimate_error

    store, run_id = studio
    at = prune_page(run_id)
    assert "or target latency ms" not in [n.label for n in at.number_input]
    assert control_data(at)["latency"] is None
    at.button(key="p:latency").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    wait_for_job(at, store, "latency", run_id)
    timings = current_latency(store, run_id, "bn", 50, 1)
    assert timings is not None
    data = control_data(at)
    axis = data["latency"]
    assert axis["backend"] == "torch-cpu" and axis["error"] == estimate_error(timings, "torch-cpu")
    assert len(axis["timed"]) == len(timings["points"]) + 1
    ms = latency_at_positions(PayloadPreview(data["payload"]), timings, "torch-cpu")
    for target in (float(np.median(ms)), float(ms.min() + 0.25 * (ms.max() - ms.min())), float(ms.max()) * 2):
        box(at, "or target latency ms").set_value(round(target, 3)).run()
        assert not at.exception
        k = control_data(at)["selected"]["i"]
        assert ms[k] <= round(target, 3) and ms[k] == ms[ms <= round(target, 3)].max()
        assert box(at, "or target latency ms").value == pytest.approx(round(float(ms[k]), 3))
    box(at, "or target latency ms").set_value(0.0).run()  # nothing is that fast: the fastest plan, and a note
    assert control_data(at)["selected"]["i"] == int(np.argmin(ms))
    assert any("No plan runs in 0 ms" in w.value for w in at.warning)
