"""Each page under streamlit's AppTest: widgets present, no exception, interactions change what is shown."""
from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from apptest_support import wait_for_job

from slimcore.config import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60


def page(name: str) -> AppTest:
    """The app started at app.py (so sidebar links resolve) and switched to page `name`."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    return at if name == "app.py" else at.switch_page(name)


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory) -> Path:
    """A store holding one finished run: slimnet on the 8×8 digits, one epoch, ℓ1 proximal."""
    from slimcore import jobs
    from slimcore.store import RunStore

    root = tmp_path_factory.mktemp("trained") / "runs"
    store = RunStore(root)
    config = TrainConfig(dataset="digits", epochs=1, batch_size=64, lr=0.05, snapshot_every=5, penalty="l1",
                         lam=3e-3, penalty_params={"mode": "proximal"}, seed=0)
    run_id = jobs.create_run(store, config)
    status, _ = jobs.run_training(store, run_id)
    assert status == "finished"
    from slimcore.pruning import get_curve

    get_curve(store, run_id, ranking="bn")  # stored with the run: the Prune page reads it back
    store.close()
    return root


@pytest.fixture
def trained(trained_dir, monkeypatch) -> Path:
    monkeypatch.setenv("SLIMCORE_RUNS_DIR", str(trained_dir))
    return trained_dir


def _labels(widgets) -> list[str]:
    return [w.label for w in widgets]


def _text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    return "\n".join(str(p) for p in parts)


# -- Home -------------------------------------------------------------------------------------------------
def test_home_lists_the_four_steps_and_says_which_device_trains(runs_dir):
    from slimcore.devices import available_devices

    at = page("app.py").run()
    assert not at.exception
    links = {el.proto.page for el in at.get("page_link")}
    assert {"Train", "Prune", "Runs", "Learn"} <= links, links
    device = {m.label: m.value for m in at.metric}["device"]
    assert device == ("GPU" if available_devices()[0] != "cpu" else "CPU")


# -- Train ------------------------------------------------------------------------------------------------
def test_train_page_defaults_are_the_config_defaults(runs_dir):
    from slimcore.devices import available_devices

    at = page("pages/1_Train.py").run()
    assert not at.exception
    d = TrainConfig()
    assert at.selectbox(key="t:dataset").value == d.dataset == "mnist5k"
    assert at.selectbox(key="t:model").value == d.model == "slimnet"
    assert at.selectbox(key="t:penalty").value == d.penalty
    assert at.number_input(key="t:lam").value == pytest.approx(d.lam)
    assert at.number_input(key="t:epochs").value == d.epochs
    assert at.number_input(key="t:lr").value == pytest.approx(d.lr)
    assert at.number_input(key="t:batch").value == d.batch_size
    found = available_devices()
    assert at.selectbox(key="t:device").options == ["auto", *found]
    gpus = [d for d in found if d != "cpu"]
    shown = "GPU present: " + (f"yes ({', '.join(gpus)})" if gpus else "no, training uses the CPU")
    assert shown in [c.value for c in at.caption], [c.value for c in at.caption]
    assert at.button(key="t:start")
    assert any("No run yet" in i.value for i in at.info)


@pytest.mark.parametrize("penalty, params", [("lp", {"p", "mode"}), ("tl1", {"a", "mode"}),
                                             ("ista", {"alpha", "gamma_lr", "rho"}), ("tpp", {"ratio", "lam_max"}),
                                             ("l1", {"mode"})])
def test_train_page_shows_the_penalty_own_parameters(runs_dir, penalty, params):
    at = page("pages/1_Train.py").run()
    at.selectbox(key="t:penalty").set_value(penalty).run()
    assert not at.exception
    labels = set(_labels(at.number_input)) | set(_labels(at.selectbox))
    assert params <= labels, labels


def test_train_page_bad_config_shows_the_error_and_starts_nothing(runs_dir):
    from slimcore.store import RunStore

    at = page("pages/1_Train.py").run()
    at.number_input(key="t:lr").set_value(-1.0).run()
    at.button(key="t:start").click().run()
    assert not at.exception
    assert any("lr must be" in e.value for e in at.error), [e.value for e in at.error]
    assert RunStore(runs_dir).list_runs() == []


def test_train_page_bad_penalty_parameter_is_reported(runs_dir):
    at = page("pages/1_Train.py").run()
    at.selectbox(key="t:penalty").set_value("lp").run()
    at.number_input(key="t:pp:lp:p").set_value(1.5).run()
    at.button(key="t:start").click().run()
    errors = [e.value for e in at.error]
    assert errors == ["Not started: penalty 'lp': p must be a number in (0, 1), got 1.5."], errors


def test_train_page_lam_follows_the_penalty_until_the_user_types_one(runs_dir):
    from slimcore.penalties import PENALTIES

    at = page("pages/1_Train.py").run()
    for name in ("ista", "tpp", "none", "l1"):
        at.selectbox(key="t:penalty").set_value(name).run()
        assert at.number_input(key="t:lam").value == PENALTIES.get(name).default_lam, name
    at.number_input(key="t:lam").set_value(0.03).run()
    at.selectbox(key="t:penalty").set_value("ista").run()
    assert not at.exception
    assert at.number_input(key="t:lam").value == 0.03


def test_train_page_shows_a_finished_run_with_histograms_and_curves(trained):
    at = page("pages/1_Train.py").run()
    assert not at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 3  # γ histogram, γ heatmap, training curves
    assert at.query_params["run"]
    assert "finished" in _text(at)
    assert at.button(key="t:stop").disabled and at.button(key="t:resume").disabled
    layer = at.selectbox(key="t:layer")
    assert layer.options[0] == "all layers" and len(layer.options) == 7  # slimnet has 6 BN layers
    layer.set_value(layer.options[2]).run()
    assert not at.exception
    assert layer.options[2] in str(at.get("plotly_chart")[0].proto.spec)


def test_train_page_reattaches_to_the_run_in_the_url(trained):
    from slimcore.store import RunStore

    run_id = RunStore(trained).list_runs()[0]["id"]
    at = page("pages/1_Train.py")
    at.query_params["run"] = run_id
    at.run()
    assert not at.exception
    assert run_id in _text(at)


def test_train_page_while_a_run_is_active_shows_progress_and_time_left(runs_dir, tiny_config):
    from slimcore import jobs
    from slimcore.store import RunStore

    store = RunStore(runs_dir)
    run_id = jobs.create_run(store, tiny_config)
    # A live job as far as the page can tell: this test process's pid, heartbeating, 25 % done.
    store.set_status(run_id, "running", "training on cpu", pid=os.getpid())
    store.heartbeat(run_id, 0.25)
    at = page("pages/1_Train.py").run()
    assert not at.exception
    assert not at.button(key="t:stop").disabled and at.button(key="t:start").disabled
    bars = at.get("progress")
    assert bars and "left" in bars[0].proto.text
    assert any("Waiting for the first" in i.value for i in at.info)


# -- Runs -------------------------------------------------------------------------------------------------
def test_runs_page_tables_runs_and_overlays_their_gamma(trained):
    at = page("pages/3_Runs.py").run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert {"status", "penalty", "λ", "val accuracy", "|γ|<0.01", "health", "message"} <= set(frame.columns)
    assert "FLOPs" not in frame.columns  # a training run has none: no column of "None"
    assert frame[frame["kind"] == "train"]["status"].tolist() == ["finished"]
    assert len(at.multiselect(key="r:chosen").value) == 1
    assert at.get("plotly_chart")


def test_runs_page_computes_the_missing_curves_on_request(tmp_path, monkeypatch):
    """A run never opened on the Prune page gets its curve from the Runs page's button (a background job)."""
    from conftest import job_log, train_l1_digits, wait_for_status

    store, run_id = train_l1_digits(tmp_path / "runs", epochs=1)
    monkeypatch.setenv("SLIMCORE_RUNS_DIR", str(store.root))
    at = page("pages/3_Runs.py").run()
    assert any("No trade-off curve" in i.value for i in at.info)
    at.button(key="r:compute").click().run()
    assert not at.exception and not at.error
    curve = store.list_runs(kind="curve")[0]
    assert curve["parent"] == run_id and curve["config"]["ranking"] == "bn"
    assert wait_for_status(store, curve["id"], ("finished", "failed"), timeout=120)["status"] == "finished", \
        job_log(store, curve["id"])
    at = page("pages/3_Runs.py").run()
    assert len(at.get("plotly_chart")) == 2  # γ overlay and now the trade-off overlay
    assert "r:compute" not in [b.key for b in at.button]


def test_runs_page_empty_store_says_so(runs_dir):
    at = page("pages/3_Runs.py").run()
    assert not at.exception
    assert any("No runs yet" in i.value for i in at.info)


def test_upload_of_garbage_shows_a_clear_error(runs_dir):
    at = page("pages/3_Runs.py").run()
    at.file_uploader[0].set_value(("model.pt", b"not a checkpoint at all", "application/octet-stream")).run()
    assert not at.exception
    assert any("not a valid checkpoint" in e.value for e in at.error), [e.value for e in at.error]


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_upload_of_a_pickle_with_code_is_refused(runs_dir):
    buffer = io.BytesIO()
    torch.save({"format": "x", "payload": _Evil()}, buffer)
    at = page("pages/3_Runs.py").run()
    at.file_uploader[0].set_value(("model.pt", buffer.getvalue(), "application/octet-stream")).run()
    assert not at.exception
    assert any("refused for safety" in e.value for e in at.error)


def test_upload_of_a_plain_dict_that_is_no_slimcore_file_is_explained(runs_dir):
    buffer = io.BytesIO()
    torch.save({"weights": torch.zeros(3)}, buffer)
    at = page("pages/3_Runs.py").run()
    at.file_uploader[0].set_value(("model.pt", buffer.getvalue(), "application/octet-stream")).run()
    assert any("not a slimcore" in e.value for e in at.error), [e.value for e in at.error]


def test_upload_of_a_training_checkpoint_is_evaluated(trained):
    from slimcore.store import RunStore

    store = RunStore(trained)
    ckpt = Path(store.latest_checkpoint(store.list_runs()[0]["id"])["path"])
    at = page("pages/3_Runs.py").run()
    at.file_uploader[0].set_value(("last.pt", ckpt.read_bytes(), "application/octet-stream")).run()
    assert not at.exception and not at.error
    assert "test accuracy" in _labels(at.metric)


def test_upload_loading_refuses_pickled_code_without_running_it(tmp_path):
    from slimcore.errors import CheckpointError
    from slimcore.evaluation import load_upload

    marker = tmp_path / "ran"
    payload = pickle.dumps({"x": _Touch(str(marker))}, protocol=2)
    with pytest.raises(CheckpointError, match="refused for safety"):
        load_upload(payload)
    with pytest.raises(CheckpointError, match="empty"):
        load_upload(b"")
    assert not marker.exists()


class _Touch:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


# -- Learn ------------------------------------------------------------------------------------------------
def test_learn_page_plots_penalties_and_reacts_to_parameters(runs_dir):
    at = page("pages/4_Learn.py").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 5  # R/R′/prox, the mode race, many steps, ISTA, TPP
    assert set(at.multiselect(key="l:shown").value) == {"l1", "lp", "tl1"}
    before = [m.value for m in at.metric]
    at.select_slider(key="l:t").set_value(0.05).run()
    at.slider(key="l:lp:p").set_value(0.75).run()
    at.select_slider(key="l:tl1:a").set_value(5.0).run()
    assert not at.exception
    assert [m.value for m in at.metric] != before
    assert {"ℓp, p=0.75", "Tℓ1, a=5"} <= {m.label for m in at.metric}
    table = at.dataframe[0].value
    assert set(table["penalty"]) == {"none", "l1", "lp", "tl1", "ista", "tpp"}
    assert table[(table.penalty == "ista") & (table.parameter == "lam")]["default"].tolist() == ["0.03"]
    at.multiselect(key="l:shown").set_value([]).run()
    assert any("at least one" in i.value for i in at.info)


def test_learn_page_races_subgradient_against_proximal_from_gammas_at_one(runs_dir):
    import json

    at = page("pages/4_Learn.py").run()
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    race = next(s for s in specs if any("exactly 0" in a.get("text", "") for a in s["layout"].get("annotations", [])))
    titles = [a["text"] for a in race["layout"]["annotations"]]
    assert titles[0].startswith("subgradient: 0% exactly 0") and not titles[1].startswith("proximal: 0%")
    assert "slope R′(x): the push toward 0" in [a["text"] for a in specs[0]["layout"]["annotations"]]


def test_learn_page_takes_a_runs_gamma_and_its_real_step(trained):
    from slimcore.store import RunStore

    store = RunStore(trained)
    run = store.list_runs(kind="train")[0]
    at = page("pages/4_Learn.py").run()
    choice = next(o for o in at.selectbox(key="l:source").options if o.startswith("γ of my run"))
    at.selectbox(key="l:source").set_value(choice).run()
    assert not at.exception
    cfg = run["config"]
    t = cfg["lam"] * cfg["lr"] / (1 - cfg["momentum"])
    assert any(f"its step is t = {t:.3g}" in c.value for c in at.caption), [c.value for c in at.caption]


# -- Prune ------------------------------------------------------------------------------------------------
def _prune_page(trained) -> AppTest:
    at = page("pages/2_Prune.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _flops_box(at: AppTest):
    return next(n for n in at.number_input if n.label == "or target FLOPs %")


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_prune_page_threshold_control_gets_the_payload_and_a_release_is_evaluated_exactly(trained):
    from threshold_support import control_data, positions, release

    from slimcore.pruning.browser_preview import PayloadPreview
    from slimcore.pruning.curve import preview_at
    from slimcore.store import RunStore

    at = _prune_page(trained)
    assert at.selectbox(key="p:run").value
    assert at.selectbox(key="p:ranking").value == "bn"
    assert not at.select_slider and not at.get("plotly_chart")  # the control draws its figures in the browser
    data = control_data(at)
    thresholds = positions(at)
    assert len(thresholds) > len(data["payload"]["point_accuracy"])  # every distinct plan, not only the curve's
    assert data["exact"]["t"] == data["selected"]["t"] and data["exact"]["accuracy"] is not None
    preview = PayloadPreview(data["payload"])
    # a release between curve points: the page evaluates that exact threshold and hands its accuracy back
    k = next(i for i in range(len(thresholds) // 3, len(thresholds)) if preview.evaluated_at(thresholds[i]) is None)
    release(at, k)
    assert not at.exception, [e.message for e in at.exception]
    data = control_data(at)
    assert data["selected"]["t"] == data["exact"]["t"] == repr(thresholds[k])
    run_id = at.selectbox(key="p:run").value
    exact = preview_at(RunStore(trained), run_id, "bn", threshold=thresholds[k])
    assert data["exact"]["accuracy"] == exact["accuracy"]
    assert [e["t"] for e in data["evaluated"]] == [repr(thresholds[k])]
    # the FLOPs box follows the control
    assert _flops_box(at).value == pytest.approx(round(100 * exact["flops_ratio"], 1))


def test_prune_page_target_flops_moves_the_control_to_the_nearest_plan(trained):
    from threshold_support import control_data, positions

    from slimcore.pruning.browser_preview import PayloadPreview

    at = _prune_page(trained)
    _flops_box(at).set_value(50.0).run()
    assert not at.exception
    preview = PayloadPreview(control_data(at)["payload"])
    k = control_data(at)["selected"]["i"]
    shares = preview.flops_shares()
    assert abs(shares[k] - 0.5) == min(abs(shares - 0.5)) and positions(at)[k] == float(control_data(at)["selected"]["t"])
    assert _flops_box(at).value == pytest.approx(round(100 * shares[k], 1))
    _flops_box(at).set_value(100.0).run()
    assert control_data(at)["selected"]["i"] == 0 and _flops_box(at).value == 100.0


def test_prune_page_commit_runs_as_a_job_then_shows_the_result_card_and_downloads(trained):
    from slimcore import jobs
    from slimcore.store import RunStore

    at = _prune_page(trained)
    store = RunStore(trained)
    run_id = at.selectbox(key="p:run").value
    at.button(key="p:commit").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    job = jobs.latest(store, "prune", run_id)
    assert job is not None and job["config"]["threshold"] is not None
    if jobs.is_active(job):  # the page follows it: a progress bar and a Stop button, the Commit button disabled
        assert at.get("progress") and at.button(key=f"stop:{job['id']}")
        assert at.button(key="p:commit").disabled
    job = wait_for_job(at, store, "prune", run_id, timeout=240)
    assert job["status"] == "finished", job["message"]
    assert not at.exception and not at.error, [e.value for e in at.error]
    labels = _labels(at.metric)
    assert {"test accuracy", "CPU latency, batch 1"} <= set(labels)
    downloads = [d.proto.label for d in at.get("download_button")]
    assert downloads == ["Download ONNX", "Download model.pt"]
    assert job["id"] in _text(at)


def test_prune_page_bad_finetune_setting_is_an_error(trained):
    at = _prune_page(trained)
    lr = [n for n in at.number_input if n.label == "fine-tune lr"][0]
    lr.set_value(0.0)
    at.button(key="p:commit").click().run()
    assert not at.exception
    assert any("learning rate" in e.value for e in at.error), [e.value for e in at.error]


def test_prune_page_legr_search_runs_as_a_job_with_progress_and_stops(trained):
    from slimcore import jobs
    from slimcore.store import RunStore

    at = _prune_page(trained)
    at.selectbox(key="p:ranking").set_value("legr").run()
    assert not at.exception
    assert at.button(key="p:legr").label == "Start LeGR search"
    assert not at.select_slider
    at.button(key="p:legr").click().run()
    assert not at.exception
    store = RunStore(trained)
    run_id = at.selectbox(key="p:run").value
    search = jobs.latest(store, "search", run_id)
    try:
        assert search["status"] in ("starting", "running") and search["pid"]
        assert at.get("progress") and at.button(key=f"stop:{search['id']}")
    finally:
        jobs.stop(store, search["id"])
    search = wait_for_job(at, store, "search", run_id, timeout=120)
    assert search["status"] == "stopped", search["message"]
    assert not at.exception and not at.error


def test_prune_page_without_finished_runs_says_what_to_do(runs_dir):
    at = page("pages/2_Prune.py").run()
    assert not at.exception
    assert any("No finished training run" in i.value for i in at.info)


def test_runs_page_overlays_stored_tradeoff_curves_and_evaluates_a_pruned_model(trained, tmp_path):
    from slimcore.pruning import PruneSettings, commit
    from slimcore.store import RunStore

    store = RunStore(trained)
    run_id = store.list_runs(kind="train")[0]["id"]
    report = commit(store, run_id, PruneSettings(flops_ratio=0.7, out_dir=str(tmp_path), latency_repeats=2))
    at = page("pages/3_Runs.py").run()
    assert len(at.get("plotly_chart")) == 2  # γ overlay and trade-off overlay
    import json

    legends = {t.get("name") for chart in at.get("plotly_chart") for t in json.loads(chart.proto.spec)["data"]}
    short = run_id.rsplit("-", 1)[-1]
    assert f"slimnet · l1 λ=0.003 · digits · {short}" in legends, legends  # what tells runs apart, not an id
    assert f"slimnet · l1 λ=0.003 · digits · {short} · bn" in legends, legends
    frame = at.dataframe[1].value  # the commits on the trained models
    row = frame[frame["run"] == report["run_id"]].iloc[0]
    assert row["kind"] == "prune" and row["on run"] == f"slimnet · l1 λ=0.003 · digits · {short}"
    assert row["ranking"] == "bn" and row["cut"] == "≤ 70% FLOPs" and row["FLOPs"] == report["flops_ratio"]
    assert row["message"].startswith(f"{report['flops_ratio']:.1%} of the FLOPs")
    model_pt = Path(report["files"]["model_pt"])
    at.file_uploader[0].set_value(("model.pt", model_pt.read_bytes(), "application/octet-stream")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert {m.label: m.value for m in at.metric}["test accuracy"] == f"{report['accuracy']:.2%}"


def test_train_page_recipe_fills_the_form_and_the_run_keeps_its_schedule(runs_dir):
    from slimcore import jobs
    from slimcore.store import RunStore

    at = page("pages/1_Train.py").run()
    at.selectbox(key="t:recipe").set_value("slimming-vgg19-cifar10").run()
    assert not at.exception
    assert (at.selectbox(key="t:model").value, at.selectbox(key="t:dataset").value,
            at.selectbox(key="t:penalty").value) == ("vgg19", "cifar10", "l1")
    assert (at.number_input(key="t:lam").value, at.number_input(key="t:epochs").value,
            at.number_input(key="t:lr").value) == (1e-4, 160, 0.1)
    assert at.selectbox(key="t:pp:l1:mode").value == "subgradient"
    assert any("93.66 %" in c.value for c in at.caption)
    at.selectbox(key="t:dataset").set_value("digits").run()  # here: the 8×8 digits, one epoch
    at.number_input(key="t:epochs").set_value(1).run()
    at.button(key="t:start").click().run()
    assert not at.exception, [e.message for e in at.exception]
    store = RunStore(runs_dir)
    [run] = store.list_runs()
    jobs.stop(store, run["id"])
    cfg = run["config"]
    assert (cfg["model"], cfg["lam"], cfg["schedule"], cfg["weight_decay"], cfg["label"]) == (
        "vgg19", 1e-4, "step", 1e-4, "recipe slimming-vgg19-cifar10")


def test_prune_page_says_when_legr_kept_the_identity_map(runs_dir):
    """A search of one candidate keeps the identity map: the page says the legr curve is the |γ| curve and shows
    the learned α, κ."""
    from conftest import train_l1_digits
    from slimcore.pruning import LegrSettings, get_curve, search_legr

    store, run_id = train_l1_digits(runs_dir)
    search_legr(store, run_id, LegrSettings(population=1, sample=1, generations=0, steps=1))
    get_curve(store, run_id, "legr")  # the curve the page reads (50 points)
    at = page("pages/2_Prune.py").run()
    at.selectbox(key="p:ranking").set_value("legr").run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("best candidate is the identity map" in w.value for w in at.warning), [w.value for w in at.warning]
    frames = [d.value for d in at.dataframe]
    assert any(list(f.columns) == ["group", "alpha", "kappa"] and (f["alpha"] == 1.0).all() for f in frames)
