"""Recovering accuracy after the cut, from the Prune page in Debian's chromium (issue 18): a distilled commit in two
cuts started from the form shows its fine-tuning's loss and accuracy and its cuts as the job records them, then the
card with the path; the job ran with exactly what the form said."""
from __future__ import annotations

import pytest

from browser_support import browser_tab, open_page, require_chromium, serving, wait_until
from slimcore import jobs
from slimcore.store import RunStore

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """A server on a store holding one finished two-epoch ℓ1 run on the 8×8 digits with its |γ| curve."""
    require_chromium()
    from slimcore.config import TrainConfig
    from slimcore.pruning import get_curve

    tmp = tmp_path_factory.mktemp("recovery-page")
    store = RunStore(tmp / "runs")
    run_id = jobs.create_run(store, TrainConfig(dataset="digits", epochs=2, batch_size=64, lr=0.05, penalty="l1",
                                                lam=3e-3, penalty_params={"mode": "proximal"}, seed=0))
    status, message = jobs.run_training(store, run_id, stop_flag={"requested": False})
    assert status == "finished", message
    get_curve(store, run_id, "bn")
    with serving(tmp / "runs", tmp / "streamlit.log") as url:
        yield url, store, run_id


@pytest.fixture
def tab(studio):
    with browser_tab(timeout_ms=60_000) as page:
        yield page


def type_in(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Tab")
    wait_until(lambda: page.get_by_label(label, exact=True).input_value() == value, 30, f"{label} = {value}")


def test_a_distilled_two_cut_commit_shows_its_fine_tuning_live_then_the_card_with_its_path(studio, tab):
    url, store, run_id = studio
    page = tab
    open_page(page, f"{url}/Prune?run={run_id}")
    page.get_by_role("slider", name="threshold").wait_for(timeout=120_000)
    flops = page.get_by_label("or target FLOPs %", exact=True)
    flops.fill("50")
    flops.press("Tab")  # the threshold moves to the plan with the nearest FLOPs, and the box shows its share
    wait_until(lambda: abs(float(flops.input_value()) - 50) < 5, 30, "the plan nearest 50 % of the FLOPs")
    type_in(page, "fine-tune epochs", "2")
    type_in(page, "cut in K steps", "2")
    page.get_by_text("distil from the unpruned model", exact=True).click()
    wait_until(lambda: page.get_by_label("distillation temperature T", exact=True).is_enabled(), 30,
               "the distillation fields to open")
    type_in(page, "distillation temperature T", "3")
    page.get_by_text("In 2 cuts the commit aims at this threshold's FLOPs share").wait_for()
    page.get_by_role("button", name="Commit: build the pruned model").click()

    job = wait_until(lambda: jobs.latest(store, "prune", run_id), 30, "the prune job to be recorded")
    cfg = job["config"]
    assert (cfg["steps"], cfg["threshold"], cfg["finetune"]["epochs"]) == (2, None, 2)
    assert cfg["finetune"]["distill"] and cfg["finetune"]["distill_temperature"] == 3.0
    assert 0.4 < cfg["flops_ratio"] < 0.6

    live = page.get_by_test_id("stPlotlyChart").filter(has_text="fine-tuning epoch")
    wait_until(lambda: live.count(), 300, "the live fine-tuning curves", every=0.2)
    assert jobs.is_active(jobs.view(store, job["id"])), "the live curves were drawn after the job ended"
    assert "train loss (distillation)" in live.first.text_content()
    wait_until(lambda: page.get_by_text("Cuts done: 1 of 2").count(), 300, "the first cut in the live view",
               every=0.2)
    assert page.get_by_test_id("stProgress").count()

    download = page.get_by_role("button", name="Download ONNX")
    download.wait_for(timeout=400_000)
    done = jobs.view(store, job["id"])
    assert done["status"] == "finished", done["message"]
    text = page.get_by_test_id("stMain").inner_text()
    assert f"Pruned model {job['id']}" in text and "2 cuts toward" in text, text[-2000:]
    assert "distilled from the unpruned model (T 3, W 0.9)" in text
    assert "No model has been built with these settings" not in text
    assert not live.count(), "the live view stayed after the job ended"
    path = page.get_by_text("The path: 2 cuts, each fine-tuned before the next is ranked")
    assert path.count() == 1
    steps = done["summary"]["steps"]
    assert [s["step"] for s in steps] == [1, 2]
    card_chart = page.get_by_test_id("stPlotlyChart").filter(has_text="each cut's target")
    assert card_chart.count() == 1 and "fine-tuned" in card_chart.first.text_content()
