"""The Prune page keeps what the user chose and shows only what belongs to it (issue 15, in Debian's chromium): a
picked run sticks across reruns, run and ranking survive leaving the page and coming back, Enter in a fine-tune
field starts no commit, and a commit's card is shown as the result only of the settings it was made with."""
from __future__ import annotations

import pytest

from browser_support import (VIEWPORT, choose, launch_browser, location, open_page, require_chromium, shown_option,
                             start_server, stop_jobs, stop_server, wait_until)
from slimcore import jobs
from slimcore.store import RunStore

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(600)]

RUN, RANKING = "Trained run", "Ranking"


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """A server on a store holding two finished one-epoch runs on the 8×8 digits (a second apart, so their order
    is fixed), each with its |γ| and bn-mean curves stored."""
    require_chromium()
    import time

    from slimcore.config import TrainConfig
    from slimcore.pruning import get_curve

    tmp = tmp_path_factory.mktemp("prune-page")
    store = RunStore(tmp / "runs")
    runs = {}
    for label in ("older", "newer"):
        run_id = jobs.create_run(store, TrainConfig(dataset="digits", epochs=1, label=label))
        status, message = jobs.run_training(store, run_id, stop_flag={"requested": False})
        assert status == "finished", message
        for ranking in ("bn", "bn-mean"):  # stored now, so the page reads them back instead of starting a job
            get_curve(store, run_id, ranking)
        runs[label] = run_id
        time.sleep(1.1)  # run ids and creation times a second apart: "newer" is the newest
    proc, url = start_server(tmp / "runs", tmp / "streamlit.log")
    yield url, store, runs
    stop_jobs(tmp / "runs")
    stop_server(proc)


@pytest.fixture(scope="module")
def chromium(studio):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_browser(p)
        yield browser
        browser.close()


@pytest.fixture
def tab(chromium):
    """A fresh browser session (its own Streamlit session state)."""
    context = chromium.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def main_text(page) -> str:
    return page.get_by_test_id("stMain").inner_text()


def slider_ready(page, timeout: float = 120) -> None:
    """Waits for the threshold slider (a first visit of a ranking evaluates its curve as a job first)."""
    page.get_by_role("slider", name="threshold").wait_for(timeout=timeout * 1000)


def metric_values(page) -> list[str]:
    return page.get_by_test_id("stMetricValue").all_inner_texts()


def rerun_by_flops_box(page) -> None:
    """Types a FLOPs target far from the shown one: the page reruns, moves the threshold to the nearest plan, and
    the metrics change."""
    before = metric_values(page)
    box = page.get_by_label("or target FLOPs %", exact=True)
    for target in ("1", "100", "50"):  # one of them is another plan than the shown one
        box.fill(target)
        box.press("Tab")
        if wait_until(lambda: metric_values(page) != before, 20, "", 0.2, fail=False):
            return
    raise AssertionError(f"no FLOPs target moved the threshold: {before}")


def go_to(page, link: str, ready) -> None:
    page.get_by_test_id("stSidebar").get_by_text(link, exact=True).click()
    ready()


def test_a_picked_run_and_ranking_stay_across_reruns_and_leaving_the_page(studio, tab):
    from app_support.runs import run_label

    url, store, runs = studio
    labels = {r["id"]: run_label(r) for r in store.list_runs(kind="train")}
    page = tab
    open_page(page, url)
    go_to(page, "2 · Prune", lambda: slider_ready(page))
    assert shown_option(page, RUN) == labels[runs["newer"]], "the newest finished run is the default"

    box = page.get_by_role("combobox", name=RUN, exact=True)  # the older run, with the keyboard
    box.click()
    box.fill(runs["older"])
    wait_until(lambda: page.get_by_role("option").all_inner_texts() == [labels[runs["older"]]], 30,
               "the typed id to leave one option", 0.1)
    box.press("Enter")
    wait_until(lambda: f"run={runs['older']}" in location(page), 30, "the picked run to reach the URL")
    slider_ready(page)
    rerun_by_flops_box(page)  # another widget: the page reruns
    assert shown_option(page, RUN) == labels[runs["older"]], "the picked run snapped back after a rerun"

    choose(page, RANKING, "bn-mean")  # with the mouse
    wait_until(lambda: shown_option(page, RANKING) == "bn-mean", 30, "the ranking box to show bn-mean")
    slider_ready(page)
    rerun_by_flops_box(page)
    assert shown_option(page, RUN) == labels[runs["older"]]
    assert shown_option(page, RANKING) == "bn-mean"

    for other, heading in (("3 · Runs", "Runs"), ("1 · Train", "Train")):
        go_to(page, other, lambda: page.get_by_role("heading", name=heading, exact=True).wait_for())
        go_to(page, "2 · Prune", lambda: slider_ready(page))
        assert shown_option(page, RUN) == labels[runs["older"]], f"the run was reset after a visit to {other}"
        assert shown_option(page, RANKING) == "bn-mean", f"the ranking was reset after a visit to {other}"
        assert f"run={runs['older']}" in location(page), "a reload would not show the run again"
    assert "Traceback" not in main_text(page)


def test_enter_in_a_fine_tune_field_starts_no_commit(studio, tab):
    url, store, runs = studio
    page = tab
    run_id = runs["older"]
    open_page(page, f"{url}/Prune?run={run_id}")
    slider_ready(page)
    before = [r["id"] for r in store.list_runs(kind="prune")]
    for label, value in (("fine-tune epochs", "2"), ("fine-tune lr", "0.02")):
        box = page.get_by_label(label, exact=True)
        box.fill(value)
        box.press("Enter")
        wait_until(lambda: page.get_by_label(label, exact=True).input_value() == value, 30, f"{label} = {value}")
        page.wait_for_timeout(1500)  # the rerun the Enter started, and anything it might start
        box.press("Enter")  # again, on a value the page already has
        page.wait_for_timeout(1500)
    assert [r["id"] for r in store.list_runs(kind="prune")] == before, "Enter started a prune job"
    assert jobs.latest(store, "prune", run_id) is None
    assert "Pruned model" not in main_text(page)
    assert not page.get_by_test_id("stProgress").count()
    assert page.get_by_role("button", name="Commit: build the pruned model").is_enabled()


def test_the_commit_card_is_shown_only_for_the_settings_it_was_made_with(studio, tab):
    from slimcore.pruning.settings import PruneSettings

    url, store, runs = studio
    page = tab
    run_id = runs["newer"]
    open_page(page, f"{url}/Prune?run={run_id}")
    slider_ready(page)
    page.get_by_role("button", name="Commit: build the pruned model").click()
    download = page.get_by_role("button", name="Download ONNX")
    download.wait_for(timeout=300_000)
    commit = jobs.latest(store, "prune", run_id)
    assert commit["status"] == "finished", commit["message"]
    assert commit["id"] in main_text(page)

    epochs = page.get_by_label("fine-tune epochs", exact=True)
    epochs.fill("2")
    epochs.press("Tab")
    other = page.get_by_text("No model has been built with these settings yet")
    other.wait_for(timeout=30_000)
    assert commit["id"] in other.inner_text()
    assert not download.is_visible(), "a commit with no fine-tuning is shown as the result of a 2-epoch one"
    epochs.fill("0")
    epochs.press("Tab")
    download.wait_for(timeout=30_000)
    assert not other.count()

    # A newer commit with the same settings that ended without a model (killed): the page names it, and says the
    # card below is the earlier commit.
    failed = jobs.create(store, "prune", PruneSettings.from_dict(commit["config"]), parent=run_id)
    store.set_status(failed, "failed", "killed by the test")
    page.reload()
    slider_ready(page)
    download.wait_for(timeout=30_000)
    text = main_text(page)
    assert f"The last commit ({failed}) failed" in text
    assert f"this is the earlier commit {commit['id']}" in text, text[-1500:]
