"""Long work started from the Prune page runs as jobs: a commit survives another widget's rerun and a page
reload, and a LeGR search survives leaving the page; each page shows the job's progress, then its result."""
from __future__ import annotations

import re
import time

import pytest

from browser_support import browser_tab, open_page, require_chromium, serving, wait_until
from slimcore import jobs
from slimcore.store import RunStore

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """A server on a store holding two finished runs with their |γ| curves stored: one on the embedded MNIST
    (a 3-epoch fine-tune there lasts long enough to be touched while it runs) and one on the 8×8 digits (its
    LeGR search takes seconds)."""
    require_chromium()
    from slimcore.config import TrainConfig
    from slimcore.pruning import get_curve

    tmp = tmp_path_factory.mktemp("jobs-browser")
    store = RunStore(tmp / "runs")
    runs = {}
    for dataset in ("mnist5k", "digits"):
        run_id = jobs.create_run(store, TrainConfig(dataset=dataset, epochs=1, label=dataset))
        status, message = jobs.run_training(store, run_id, stop_flag={"requested": False})
        assert status == "finished", message
        get_curve(store, run_id, "bn")
        runs[dataset] = run_id
    with serving(tmp / "runs", tmp / "streamlit.log") as url:
        yield url, store, runs


@pytest.fixture
def tab(studio):
    with browser_tab(timeout_ms=60_000, accept_downloads=True) as page:
        yield page


def main_text(page) -> str:
    return page.get_by_test_id("stMain").inner_text()


def test_a_commit_survives_a_widget_change_and_a_reload(studio, tab):
    url, store, runs = studio
    run_id = runs["mnist5k"]
    page = tab
    open_page(page, f"{url}/Prune?run={run_id}")
    slider = page.get_by_role("slider", name="threshold")
    slider.wait_for(timeout=120_000)
    epochs = page.get_by_label("fine-tune epochs", exact=True)
    epochs.fill("3")
    epochs.press("Tab")
    wait_until(lambda: page.get_by_label("fine-tune epochs", exact=True).input_value() == "3", 15, "epochs = 3")
    page.wait_for_timeout(1000)

    page.get_by_role("button", name="Commit: build the pruned model").click()
    job = wait_until(lambda: jobs.latest(store, "prune", run_id), 30, "the prune job to be recorded")
    assert job["config"]["finetune"]["epochs"] == 3
    time.sleep(2)
    slider.focus()  # another widget: the slider moves, the page reruns
    page.keyboard.press("ArrowLeft")
    page.wait_for_timeout(1500)
    assert jobs.is_active(jobs.view(store, job["id"])), "the job ended before the test could touch the page"
    page.reload()
    page.get_by_test_id("stMain").wait_for()
    assert jobs.is_active(jobs.view(store, job["id"])), "the job ended before the reload"
    # The threshold moved after the commit started, and the reload put the fine-tune epochs back at 0: the finished
    # commit is not the result of the settings shown, so the page says so and folds its card away.
    page.get_by_text("No model has been built with these settings yet").wait_for(timeout=400_000)
    done = jobs.view(store, job["id"])
    assert done["status"] == "finished", done["message"]
    assert job["id"] in main_text(page)
    page.get_by_text(f"Last commit {job['id']} (other settings)").click()
    page.get_by_role("button", name="Download ONNX").wait_for()
    assert page.get_by_role("button", name="Download model.pt").count() == 1
    metrics = page.get_by_test_id("stMetricLabel").all_inner_texts()
    assert "test accuracy" in metrics and "CPU latency, batch 1" in metrics
    report = store.artifact(job["id"], "report.json")
    assert report is not None


def test_a_legr_search_survives_leaving_the_page_then_the_curve_appears(studio, tab):
    url, store, runs = studio
    run_id = runs["digits"]
    page = tab
    open_page(page, f"{url}/Prune?run={run_id}")
    page.get_by_role("slider", name="threshold").wait_for(timeout=120_000)
    page.get_by_test_id("stSelectbox").filter(has_text="Ranking").get_by_role("combobox").click()
    page.get_by_role("option", name="legr", exact=True).click()
    page.get_by_text("Search settings").click()
    generations = page.get_by_label("generations", exact=True)
    generations.fill("150")  # about half a minute on the 8×8 digits: long enough to leave and come back
    generations.press("Tab")
    wait_until(lambda: page.get_by_text("162 candidates").count(), 15, "the search size to follow the input")
    page.get_by_role("button", name="Start LeGR search").click()
    search = wait_until(lambda: jobs.latest(store, "search", run_id), 30, "the search job to be recorded")
    assert search["config"]["generations"] == 150

    page.get_by_test_id("stSidebar").get_by_text("3 · Runs").click()
    page.get_by_test_id("stDataFrame").first.wait_for()
    page.wait_for_timeout(1500)
    assert jobs.is_active(jobs.view(store, search["id"])), "the search ended before the page was left"

    page.get_by_test_id("stSidebar").get_by_text("2 · Prune").click()
    bar = page.get_by_test_id("stProgress")
    wait_until(lambda: bar.count() and "LeGR search" in bar.first.inner_text(), 60, "the search's progress bar")
    wait_until(lambda: re.search(r"\(\d+/\d+\)", bar.first.inner_text()), 120, "a candidate count on the bar")

    # Stop keeps the best candidate so far: the search ends, the curve's job starts on its own, and the slider over
    # the learned ranking appears
    page.get_by_role("button", name="Stop").click()
    page.get_by_role("slider", name="threshold").wait_for(timeout=600_000)
    finished = jobs.view(store, search["id"])
    assert finished["status"] == "stopped", finished["message"]
    assert "the best candidate so far is stored" in finished["message"]
    curve = jobs.latest(store, "curve", run_id, where=lambda cfg: cfg["ranking"] == "legr")
    assert curve is not None and curve["status"] == "finished", curve
    assert "legr score of every channel" in main_text(page)
