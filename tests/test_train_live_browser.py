"""The Train page while a run is live (issue 15, in Debian's chromium): the γ-of-layer list offers every BN layer
of the model, and the γ number tiles and the histogram show the same snapshot at every refresh."""
from __future__ import annotations

import re

import pytest

from browser_support import (VIEWPORT, choose, launch_browser, location, open_page, require_chromium, run_caption,
                             set_number, start_server, stop_jobs, stop_server, wait_until)
from slimcore.store import RunStore

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(600)]

# Far more than the tests need (an epoch on the 8×8 digits is 23 steps at the default batch size): the run stays
# live while they look, and the module stops it at the end.
LONG_EPOCHS = 1000
ALL_LAYERS = "all layers"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """(server url, store, run id, the tab that started it): a run started from the Train page's form (slimnet on
    the digits, the default Tℓ1 proximal penalty, whose exact zeros come and go from one snapshot to the next)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("train-live")
    proc, url = start_server(tmp / "runs", tmp / "streamlit.log")
    try:
        with sync_playwright() as p:
            browser = launch_browser(p)
            page = browser.new_context(viewport=VIEWPORT).new_page()
            page.set_default_timeout(60_000)
            open_page(page, f"{url}/Train")
            choose(page, "data set", "digits")
            set_number(page, "epochs", LONG_EPOCHS)
            page.wait_for_timeout(1000)
            page.get_by_role("button", name="Start training").click()
            found = wait_until(lambda: re.search(r"[?&]run=([^&]+)", location(page)), 60, "the new run in the URL")
            yield url, RunStore(tmp / "runs"), found.group(1), page
            browser.close()
    finally:
        stop_jobs(tmp / "runs")
        stop_server(proc)


def running(page, store: RunStore, run_id: str) -> bool:
    """The page says the run is running, and so does the store."""
    return "running" in run_caption(page) and store.get_run(run_id)["status"] == "running"


def layer_options(page) -> list[str]:
    """The options of the 'γ of layer' select box (opens it, reads them, closes it)."""
    page.get_by_test_id("stSelectbox").filter(has_text="γ of layer").get_by_role("combobox").click()
    options = page.get_by_role("option")
    options.first.wait_for()
    names = options.all_inner_texts()
    page.keyboard.press("Escape")
    return names


def test_the_layer_list_offers_every_bn_layer_while_the_run_is_live(live):
    from slimcore.models.factory import create_model
    from slimcore.penalties import bn_layers

    url, store, run_id, page = live
    expected = [ALL_LAYERS, *(name for name, _ in bn_layers(create_model("slimnet", 10, 1, 8)))]
    assert len(expected) > 2
    wait_until(lambda: running(page, store, run_id), 120, "the page to show the run running")
    # The page was drawn when the run had just started, before its job recorded the layers: the list must fill
    # while the run is live, not at its end or on a reload.
    wait_until(lambda: layer_options(page) == expected, 30, f"the layer list to offer {expected}", 1)
    assert running(page, store, run_id), "the run ended before the list could be checked"
    assert [layer["name"] for layer in store.get_run(run_id)["layers"]] == expected[1:]


READ_TILE_AND_HISTOGRAM = """() => {
    const tile = [...document.querySelectorAll('[data-testid="stMetric"]')]
        .find(m => m.querySelector('[data-testid="stMetricLabel"]').innerText.trim() === 'γ exactly 0');
    const title = [...document.querySelectorAll('.js-plotly-plot .gtitle')]
        .map(t => t.textContent).find(t => t.includes('|γ| at epoch'));
    const caption = [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
        .map(c => c.innerText).find(c => c.startsWith('run '));
    const stale = document.querySelectorAll('[data-testid="stMain"] [data-stale="true"]').length;
    return [tile ? tile.querySelector('[data-testid="stMetricValue"]').innerText : null, title || null,
            caption || null, stale];
}"""


def test_the_tiles_and_the_histogram_show_the_same_snapshot_at_every_refresh(live):
    url, store, run_id, page = live
    wait_until(lambda: running(page, store, run_id), 120, "the page to show the run running")
    samples = []  # (epoch, channels, zeros, tile) of distinct refreshes, each read while the DOM stood still

    def sample() -> bool:
        first = page.evaluate(READ_TILE_AND_HISTOGRAM)
        page.wait_for_timeout(300)
        second = page.evaluate(READ_TILE_AND_HISTOGRAM)
        tile, title, caption, stale = second
        if first != second or stale or not (tile and title and caption and "running" in caption):
            return False  # mid-redraw (some elements not yet redrawn), or not live: look again
        # '|γ| at epoch 3.42: all layers' then the subtitle '336 channels, 44 exactly 0' (', …' left out at none)
        text = title.replace("\u200b", " ")  # plotly separates the title's lines with zero-width spaces
        found = re.search(r"at epoch ([\d.]+): all layers\s*(\d+) channels(?:, (\d+) exactly 0)?", text)
        assert found, title
        epoch, channels, zeros = float(found.group(1)), int(found.group(2)), int(found.group(3) or 0)
        if samples and samples[-1][0] == epoch:
            return False
        samples.append((epoch, channels, zeros, tile))
        # on until γ has exact zeros (a few epochs in): past the first epoch's end, where the run's summary has
        # figures of its own that could lag the snapshot
        return len(samples) >= 6 and sum(z > 0 for _, _, z, _ in samples) >= 3

    wait_until(sample, 180, "six refreshes of the live view, three with exact zeros", every=0.2)
    assert store.get_run(run_id)["status"] == "running", "the samples must come from a live run"
    disagree = [s for s in samples if s[3] != f"{s[2] / s[1]:.1%}"]
    assert not disagree, f"tile vs histogram (epoch, channels, zeros, tile): {disagree} of {samples}"
