"""End to end in Debian's chromium: train on the embedded default, watch γ move, prune with the keyboard, commit,
download the ONNX file; screenshots of every page go to docs/."""
from __future__ import annotations

import re

import pytest

from browser_support import (ROOT, VIEWPORT, launch_browser, open_page, require_chromium, start_server, stop_jobs,
                             stop_server, wait_until)

DOCS = ROOT / "docs"

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_chromium()
    tmp = tmp_path_factory.mktemp("e2e")
    proc, url = start_server(tmp / "runs", tmp / "streamlit.log")
    yield url, tmp / "runs"
    stop_jobs(tmp / "runs")  # a training job the test left running (its own session)
    stop_server(proc)


@pytest.fixture(scope="module")
def chromium(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_browser(p)
        yield b
        b.close()


@pytest.fixture
def tab(chromium):
    context = chromium.new_context(viewport=VIEWPORT, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


def metric_values(page) -> list[str]:
    return page.get_by_test_id("stMetricValue").all_inner_texts()


def settle(page, seconds: float = 1.0) -> None:
    """Lets plotly finish drawing before a screenshot."""
    page.wait_for_timeout(int(seconds * 1000))


def test_train_live_then_prune_commit_and_download(server, tab, tmp_path):
    import onnx

    page, (url, _) = tab, server
    DOCS.mkdir(exist_ok=True)

    # -- Train: the embedded default (mnist5k + slimnet), 2 epochs ------------------------------------------
    open_page(page, f"{url}/Train")
    epochs = page.get_by_label("epochs")
    epochs.fill("2")
    epochs.press("Enter")
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url(re.compile(r"[?&]run="), timeout=30_000)

    hist_title = page.locator(".js-plotly-plot .gtitle").filter(has_text="|γ| at epoch")
    hist_title.first.wait_for(timeout=120_000)
    first = hist_title.first.text_content()
    second = wait_until(lambda: (t := hist_title.first.text_content()) != first and t, 120,
                        "the γ histogram to update")
    assert re.search(r"epoch \d+\.\d+", second)
    assert page.locator(".js-plotly-plot .gtitle").filter(has_text="|γ| history").count() >= 1
    assert page.get_by_test_id("stProgress").count() == 1

    wait_until(lambda: "finished" in page.get_by_test_id("stMain").inner_text(), 400, "training to finish", 2)
    page.wait_for_timeout(2500)  # the page reruns once when the job ends
    settle(page)
    page.screenshot(path=str(DOCS / "train.png"))

    # -- Prune: keyboard on the threshold slider changes the metrics -------------------------------------
    page.get_by_test_id("stSidebar").get_by_text("2 · Prune").click()
    slider = page.get_by_role("slider", name="threshold")
    errors = page.get_by_test_id("stAlertContentError")
    # The first visit evaluates the trade-off curve (a progress bar), then the slider appears.
    wait_until(lambda: slider.count() or errors.count(), 300, "the threshold slider", 1)
    assert not errors.count(), errors.all_inner_texts()
    page.get_by_test_id("stMetricValue").first.wait_for()
    before = metric_values(page)
    slider.focus()
    page.keyboard.press("ArrowRight")
    moved = wait_until(lambda: metric_values(page) != before, 15, "", 0.1, fail=False)
    if not moved:  # the preselected point was the last one: step the other way
        page.keyboard.press("ArrowLeft")
        wait_until(lambda: metric_values(page) != before, 15, "the metrics to follow the slider", 0.1)
    page.wait_for_timeout(800)

    # -- Commit and download the ONNX file ---------------------------------------------------------------
    page.get_by_role("button", name="Commit: build the pruned model").click()
    onnx_button = page.get_by_role("button", name="Download ONNX")
    onnx_button.wait_for(timeout=300_000)
    settle(page)
    page.screenshot(path=str(DOCS / "prune.png"))
    with page.expect_download(timeout=60_000) as info:
        onnx_button.click()
    path = tmp_path / "model.onnx"
    info.value.save_as(path)
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    assert model.graph.input and model.graph.output


def test_runs_and_learn_pages_render(server, tab):
    page, (url, _) = tab, server
    open_page(page, f"{url}/Runs")
    page.get_by_test_id("stDataFrame").first.wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    settle(page, 2)
    assert "Traceback" not in page.get_by_test_id("stMain").inner_text()
    page.screenshot(path=str(DOCS / "runs.png"))

    open_page(page, f"{url}/Learn")
    page.locator(".js-plotly-plot").nth(1).wait_for()
    settle(page, 2)
    assert "Traceback" not in page.get_by_test_id("stMain").inner_text()
    page.screenshot(path=str(DOCS / "learn.png"))
