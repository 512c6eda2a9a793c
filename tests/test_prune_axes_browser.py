"""The Prune page's curve axes in Debian's chromium (issue 17/18): a keyboard-driven radio switches the curve's x to
the exact parameter share or (once the curve is timed) to measured latency with the estimate's error stated, and a
fine-tuned commit is drawn beside its one-shot accuracy."""
from __future__ import annotations

import numpy as np
import pytest

from browser_support import browser_tab, open_page, require_chromium, serving
from conftest import train_l1_digits

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """(url, store, run id, tmp): a digits run with its |γ| curve, its timings, its sensitivity scan and one
    fine-tuned commit stored."""
    require_chromium()
    from slimcore import jobs
    from slimcore.pruning import get_curve
    from slimcore.pruning.latency_curve import LatencySettings, time_curve
    from slimcore.pruning.sensitivity import scan_sensitivity
    from slimcore.pruning.settings import FineTuneSettings, PruneSettings, SensitivitySettings

    tmp = tmp_path_factory.mktemp("prune-axes")
    store, run_id = train_l1_digits(tmp / "runs", epochs=1)
    get_curve(store, run_id, "bn")
    time_curve(store, run_id, LatencySettings(backends=("torch-cpu",), batch=1, repeats=3))
    scan_sensitivity(store, run_id, SensitivitySettings())
    prune = jobs.create(store, "prune", PruneSettings(flops_ratio=0.4, finetune=FineTuneSettings(epochs=1),
                                                      latency_repeats=2), parent=run_id)
    assert jobs.run_here(store, prune, stop_flag={"requested": False})[0] == "finished"
    with serving(tmp / "runs", tmp / "streamlit.log") as url:
        yield url, store, run_id, tmp


@pytest.fixture
def tab(studio):
    with browser_tab(timeout_ms=120_000) as page:
        yield page


def test_the_axis_radio_redraws_the_curve_with_parameters_then_latency_and_shows_the_fine_tuned_commit(studio, tab):
    from slimcore.pruning.browser_preview import PayloadPreview, latency_at_positions, payload_for
    from slimcore.pruning.latency_curve import current_latency

    url, store, run_id, tmp = studio
    page = tab
    open_page(page, f"{url}/Prune?run={run_id}")
    root = page.locator(".slim-thr")
    root.wait_for(timeout=180_000)
    page.wait_for_function("() => document.querySelector('.slim-thr').dataset.position !== undefined")
    preview = PayloadPreview(payload_for(store, run_id, "bn"))
    api = "e => e.thresholdControl"
    pos = int(root.get_attribute("data-position"))
    flops_xs = root.evaluate(f"{api}.curveXs()")
    assert root.evaluate(f"{api}.x()") == pytest.approx(preview.flops_shares()[pos], abs=1e-12)

    # a fine-tuned commit: its after-fine-tuning marker, joined to its one-shot accuracy, and a legend entry
    assert page.locator("svg.curve g.recovered path.ft").count() == 1
    assert page.locator("svg.curve g.recovered line.ftline").count() == 1
    assert "after fine-tuning" in page.locator(".curve-legend").inner_text()

    # the keyboard alone: focus the checked radio, the arrows move along the group
    radio = page.get_by_role("radio", name="FLOPs share")
    assert radio.is_checked() and page.get_by_role("radio", name="measured latency").is_visible()
    radio.focus()
    page.keyboard.press("ArrowRight")
    assert page.get_by_role("radio", name="parameters share").is_checked()
    assert root.get_attribute("data-axis") == "params"
    assert "Accuracy vs parameters" in page.locator(".curve-title").inner_text()
    assert root.evaluate(f"{api}.x()") == pytest.approx(preview.params_shares()[pos], abs=1e-12)
    params_xs = root.evaluate(f"{api}.curveXs()")
    assert params_xs != flops_xs and len(params_xs) == len(flops_xs)
    assert set(np.round(params_xs, 12)) <= set(np.round(preview.params_shares(), 12))
    marker_params = page.locator("svg.curve .marker").get_attribute("transform")

    page.keyboard.press("ArrowRight")
    assert root.get_attribute("data-axis") == "latency"
    timings = current_latency(store, run_id, "bn", 50, 1)
    ms = latency_at_positions(preview, timings, "torch-cpu")
    got = root.evaluate(f"(e, t) => e.thresholdControl.latency(t)", repr(float(preview.thresholds[pos])))
    assert got["ms"] == pytest.approx(ms[pos], rel=1e-9)
    note = page.locator(".curve-note").inner_text()
    assert "measured for" in note and "median error" in note and "largest" in note, note
    assert page.locator(".curve-title").inner_text().count(" ms (") == 1  # "here ≈ X ms (estimated)" or measured
    assert page.locator("svg.curve .marker").get_attribute("transform") != marker_params
    # the slider still moves the marker along the latency axis
    slider = page.get_by_role("slider", name="threshold")
    slider.focus()
    page.keyboard.press("End")
    last = len(preview.thresholds) - 1
    assert root.evaluate(f"{api}.x()") == pytest.approx(ms[last], rel=1e-9)
    assert "latency" in slider.get_attribute("aria-valuetext")
    page.screenshot(path=str(tmp / "prune-axes.png"), full_page=True)
    assert "Traceback" not in page.get_by_test_id("stMain").inner_text()
