"""The Prune page's browser-side threshold control in Debian's chromium (issue 19): its FLOPs, parameters and widths
equal `slimcore preview RUN --threshold T --json` at 200 random thresholds; it works with the keyboard alone (and
a reload keeps the threshold, the FLOPs box moves it); and nothing the page loads leaves 127.0.0.1.

The run is an import of a briefly trained slimnet whose γ were set exactly to 0 for about 40 % of the channels,
as proximal training leaves them: their tie-broken scores are denormal numbers k·5e-324 apart."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from browser_support import (ROOT, VIEWPORT, launch_browser, location, open_page, require_chromium, set_number,
                             start_server, stop_jobs, stop_server, wait_until)
from conftest import train_l1_digits

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """(url, store, run id): a server on a store holding the imported run above, its |γ| curve stored."""
    require_chromium()
    import torch

    from slimcore import jobs
    from slimcore.jobs.imports import import_config
    from slimcore.pruning import get_curve
    from slimcore.pruning.trained import load_trained

    tmp = tmp_path_factory.mktemp("threshold-control")
    store, trained_id = train_l1_digits(tmp / "runs", epochs=2)
    model = load_trained(store, trained_id).model
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                zero = torch.rand(m.num_features, generator=g) < 0.4
                zero[0] = False
                m.weight[zero] = 0.0
    torch.save(model.state_dict(), tmp / "zeroed.pt")
    run_id = jobs.create(store, "import", import_config("slimnet", "digits", weights=str(tmp / "zeroed.pt")))
    assert jobs.run_here(store, run_id, stop_flag={"requested": False})[0] == "finished"
    get_curve(store, run_id, "bn")
    proc, url = start_server(tmp / "runs", tmp / "streamlit.log")
    yield url, store, run_id
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
def tab(chromium, studio):
    """A fresh session with no way out: any request not to the app's own address is aborted (and recorded), as on
    a machine without network access; `local_only` asserts there was none."""
    host = urlparse(studio[0]).netloc
    context = chromium.new_context(viewport=VIEWPORT)
    seen: list[str] = []

    def gate(route) -> None:
        if urlparse(route.request.url).netloc == host:
            route.continue_()
        else:
            route.abort()

    context.route("**/*", gate)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.on("request", lambda r: seen.append(r.url))
    page.on("websocket", lambda ws: seen.append(ws.url))
    page.requests_seen = seen
    yield page
    context.close()


def local_only(page, url: str) -> None:
    """No request or WebSocket of the page left the app's address (blob: and data: never leave the browser)."""
    host, seen = urlparse(url).netloc, page.requests_seen
    outside = [u for u in seen if not (urlparse(u).scheme in ("http", "ws") and urlparse(u).netloc == host)
               and not u.startswith(("blob:", "data:"))]
    assert any(u.startswith("ws") for u in seen) and not outside, f"requests that left {host}: {outside[:10]}"


def control(page):
    root = page.locator(".slim-thr")
    root.wait_for(timeout=180_000)
    wait_until(lambda: root.get_attribute("data-position") is not None, 60, "the control's first drawing", 0.2)
    return root


def preview_of(store, run_id):
    from slimcore.pruning.browser_preview import PayloadPreview, payload_for

    return PayloadPreview(payload_for(store, run_id, "bn"))


def random_thresholds(preview, n: int, seed: int = 0) -> list[str]:
    """Positions, values between scores, exact scores and their neighbours, the tied denormal block, out of range."""
    rng = np.random.default_rng(seed)
    scores = np.unique(np.concatenate(preview.scores))
    picks = [rng.choice(preview.thresholds, n // 4), rng.uniform(scores[0], scores[-1], n // 4),
             np.nextafter(rng.choice(scores, n // 8), np.inf), np.nextafter(rng.choice(scores, n // 8), -np.inf),
             rng.integers(0, 200, n // 8) * 5e-324]
    values = np.concatenate(picks).tolist()
    values += [0.0, -1.0, float(scores[-1]) * 2, 1e-30]
    values += rng.uniform(0, scores[-1], n - len(values)).tolist()
    return [repr(float(v)) for v in values[:n]]


def test_the_browser_computes_what_slimcore_preview_prints_at_200_random_thresholds(studio, tab, capsys):
    from slimcore.cli.main import main

    url, store, run_id = studio
    page = tab
    open_page(page, f"{url}/Prune?run={run_id}")
    root = control(page)
    preview = preview_of(store, run_id)
    assert int(np.sum(preview.thresholds < 1e-300)) > 50, "the run has its block of tied zero γ"
    assert root.evaluate("e => e.thresholdControl.positions()") == len(preview.thresholds)
    thresholds = random_thresholds(preview, 200)
    assert len(set(thresholds)) > 150
    browser = root.evaluate("(e, ts) => ts.map(t => e.thresholdControl.compute(t))", thresholds)
    for t, got in zip(thresholds, browser):
        assert main(["preview", run_id, f"--threshold={t}", "--json", "--runs-dir", str(store.root)]) == 0
        cli = json.loads(capsys.readouterr().out)
        assert (got["flops"], got["params"], got["widths"]) == (cli["flops"], cli["params"], cli["widths"]), t
    # and the installed command itself, once, on a tied denormal threshold
    t = repr(float(preview.thresholds[7]))
    out = subprocess.run([sys.executable, "-m", "slimcore", "preview", run_id, f"--threshold={t}", "--json",
                          "--runs-dir", str(store.root)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    cli, got = json.loads(out.stdout), root.evaluate("(e, t) => e.thresholdControl.compute(t)", t)
    assert (got["flops"], got["params"], got["widths"]) == (cli["flops"], cli["params"], cli["widths"])
    local_only(page, url)


def test_keyboard_alone_drives_the_control_and_the_threshold_survives_a_reload(studio, tab):
    url, store, run_id = studio
    page = tab
    open_page(page, f"{url}/Prune?run={run_id}")
    root = control(page)
    preview = preview_of(store, run_id)
    last = len(preview.thresholds) - 1
    slider = page.get_by_role("slider", name="threshold")
    assert slider.count() == 1
    for _ in range(120):  # Tab from the top of the page to the control
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.classList.contains('thr-range')"):
            break
    else:
        pytest.fail("Tab never reached the threshold control")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none", "focus is not visible"

    def position() -> int:
        return int(root.get_attribute("data-position"))

    flops = page.locator(".metric[data-metric=flops] .m-value")
    page.keyboard.press("Home")
    assert position() == 0 and flops.inner_text() == "100.0 %"
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    assert position() == 5 and "threshold 0 + " in slider.get_attribute("aria-valuetext")  # in the tied block
    step = max(1, int(np.floor(last / 20 + 0.5)))  # as JS rounds (half up)
    page.keyboard.press("PageUp")
    assert position() == 5 + step
    page.keyboard.press("End")
    assert position() == last
    page.keyboard.press("PageDown")
    k = last - step
    assert position() == k and flops.inner_text() != "100.0 %"
    text = slider.get_attribute("aria-valuetext")
    assert re.match(r"threshold \S+: FLOPs \d+\.\d %, \d+ of \d+ channels kept, accuracy ", text), text

    # released (the keys paused): Python evaluates that exact threshold and the URL keeps it
    wanted = repr(float(preview.thresholds[k]))
    wait_until(lambda: parse_qs(urlparse(location(page)).query).get("t") == [wanted], 60, "?t= to follow the keys")
    wait_until(lambda: root.get_attribute("data-exact") == "1", 60, "the exact accuracy of the released threshold")
    assert "≈" not in page.locator(".metric[data-metric=accuracy] .m-value").inner_text()

    page.goto(location(page))  # a reload: a new session, the threshold from the URL
    root = control(page)
    assert position() == k

    # the target-FLOPs box, typed, moves the control to the plan with the nearest FLOPs
    set_number(page, "or target FLOPs %", 50)
    near = preview.nearest_flops_position(0.5)
    wait_until(lambda: position() == near, 60, "the control to move to the nearest FLOPs")
    assert abs(float(flops.inner_text().split()[0]) - 100 * preview.flops_shares()[near]) < 0.051
    assert "Traceback" not in page.get_by_test_id("stMain").inner_text()
    local_only(page, url)


def test_a_mouse_drag_redraws_every_figure_at_each_step_and_its_release_is_evaluated(studio, tab):
    url, store, run_id = studio
    page = tab
    open_page(page, f"{url}/Prune?run={run_id}")
    root = control(page)
    preview = preview_of(store, run_id)
    box = page.get_by_role("slider", name="threshold").bounding_box()
    y, left, right = box["y"] + box["height"] / 2, box["x"] + 2, box["x"] + box["width"] - 2

    def figures() -> dict:
        return root.evaluate("""e => ({
            flops: e.querySelector('.metric[data-metric=flops] .m-value').textContent,
            kept: e.querySelector('.metric[data-metric=kept] .m-value').textContent,
            line: e.querySelector('svg.hist .tline').getAttribute('x1'),
            below: e.querySelector('.hist-title').textContent,
            marker: e.querySelector('svg.curve .marker').getAttribute('transform'),
            bars: [...e.querySelectorAll('svg.bars rect.kept')].map(r => r.getAttribute('height')).join(),
            inputs: e.thresholdControl.timings.input.length})""")

    page.mouse.move(left, y)
    page.mouse.down()
    start = figures()
    seen = [start]
    for i in range(1, 101):
        page.mouse.move(left + (right - left) * i / 100, y)
        if i % 10 == 0:
            seen.append(figures())
    page.mouse.up()
    end = figures()
    assert int(root.get_attribute("data-position")) == len(preview.thresholds) - 1
    assert end["inputs"] - start["inputs"] >= 50, "input events the control did not redraw for"
    for a, b in zip(seen, seen[1:]):  # every tenth step: each figure moved on (the line stays at 0 in the tied block)
        assert all(a[k] != b[k] for k in ("flops", "below", "marker")), (a, b)
    assert start["bars"] != end["bars"] and start["kept"] != end["kept"] and start["line"] != end["line"]
    wanted = repr(float(preview.thresholds[-1]))
    wait_until(lambda: parse_qs(urlparse(location(page)).query).get("t") == [wanted], 60, "the release to reach Python")
    wait_until(lambda: root.get_attribute("data-exact") == "1", 60, "the exact accuracy after the release")
    local_only(page, url)
