"""The app is only a window on training jobs: killing the Streamlit server (kill -9) leaves a job the app started
running, a new server shows it live again and can stop it; two browser sessions on one store each see and
control their own run."""
from __future__ import annotations

import os
import re
import signal
import time

import pytest

from browser_support import (VIEWPORT, choose, free_port, launch_browser, open_page, require_chromium, run_caption,
                             set_number, start_server, stop_jobs, stop_server, wait_until)
from slimcore import jobs
from slimcore.store import RunStore
from slimcore.jobs.liveness import pid_alive

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(900)]

# Long enough to outlive a server restart on a fast machine; the tests stop the job themselves.
LONG_EPOCHS = 300


@pytest.fixture(scope="module")
def chromium():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_browser(p)
        yield b
        b.close()


@pytest.fixture
def store_dir(tmp_path):
    d = tmp_path / "runs"
    yield d
    stop_jobs(d)  # whatever a failing test left running


def new_tab(browser):
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.set_default_timeout(60_000)
    return page


def shown_epoch(page) -> float | None:
    """The epoch the progress bar reports ('running: epoch 3.4 of 300 · …')."""
    bar = page.get_by_test_id("stProgress")
    if not bar.count():
        return None
    found = re.search(r"epoch ([\d.]+) of", bar.first.inner_text())
    return float(found.group(1)) if found else None


def shows_live(page, run_id: str, timeout: float = 120) -> None:
    """The page shows `run_id` running, and its progress moves between two looks."""
    wait_until(lambda: run_id in run_caption(page) and "running" in run_caption(page), timeout,
               f"the page to show run {run_id} running")
    first = wait_until(lambda: shown_epoch(page), timeout, "a progress bar with an epoch")
    wait_until(lambda: (shown_epoch(page) or 0) > first, timeout, f"the shown epoch to move past {first}")


def store_progress_moves(store: RunStore, run_id: str, timeout: float = 120) -> None:
    before = store.get_run(run_id)["progress"]
    wait_until(lambda: store.get_run(run_id)["progress"] > before, timeout, "the job's progress to move", 0.3)


def test_training_outlives_a_killed_app_and_a_new_server_reattaches(chromium, store_dir, tmp_path):
    port = free_port()
    server, url = start_server(store_dir, tmp_path / "streamlit-1.log", port=port)
    try:
        page = new_tab(chromium)
        open_page(page, f"{url}/Train")
        choose(page, "data set", "digits")
        set_number(page, "epochs", LONG_EPOCHS)
        set_number(page, "batch size", 16)
        page.wait_for_timeout(1000)
        page.get_by_role("button", name="Start training").click()
        page.wait_for_url(re.compile(r"[?&]run="), timeout=60_000)
        run_id = re.search(r"[?&]run=([^&]+)", page.url).group(1)
        shows_live(page, run_id)
    finally:
        os.killpg(server.pid, signal.SIGKILL)  # the app dies hard: no shutdown hooks run
        server.wait(timeout=30)

    store = RunStore(store_dir)
    run = store.get_run(run_id)
    assert run["config"]["dataset"] == "digits" and run["config"]["epochs"] == LONG_EPOCHS
    assert run["status"] == "running" and pid_alive(run["pid"]), run
    store_progress_moves(store, run_id)

    server, url = start_server(store_dir, tmp_path / "streamlit-2.log", port=port)
    try:
        # The tab that was open reconnects to the new server by itself and goes on showing the run.
        shows_live(page, run_id)
        # A fresh visit with no ?run= picks the newest run: the one still training.
        fresh = new_tab(chromium)
        open_page(fresh, f"{url}/Train")
        shows_live(fresh, run_id)
        assert run_id in fresh.url
        fresh.get_by_role("button", name="Stop").click()
        wait_until(lambda: "stopped" in run_caption(fresh), 120, "the page to show the run stopped")
        stopped = store.get_run(run_id)
        assert stopped["status"] == "stopped", stopped
        assert store.latest_checkpoint(run_id) is not None
        wait_until(lambda: not pid_alive(stopped["pid"]), 60, "the job process to exit")
        assert "Traceback" not in fresh.get_by_test_id("stMain").inner_text()
    finally:
        stop_server(server)


def test_two_browser_sessions_each_see_and_control_their_own_run(chromium, store_dir, tmp_path, tiny_config):
    store = RunStore(store_dir)
    base = tiny_config.replace(batch_size=16, device="cpu")
    a = jobs.start_training(base.replace(epochs=LONG_EPOCHS, label="session-a", penalty="l1", lam=1e-3,
                                         penalty_params={"mode": "subgradient"}), store)
    b = jobs.start_training(base.replace(epochs=LONG_EPOCHS - 50, label="session-b", penalty="tl1", lam=0.1,
                                         penalty_params={"a": 1.0, "mode": "proximal"}), store)
    server, url = start_server(store_dir, tmp_path / "streamlit.log")
    try:
        tab_a, tab_b = new_tab(chromium), new_tab(chromium)
        open_page(tab_a, f"{url}/Train?run={a}")
        open_page(tab_b, f"{url}/Train?run={b}")
        shows_live(tab_a, a)
        shows_live(tab_b, b)
        main_a, main_b = tab_a.get_by_test_id("stMain"), tab_b.get_by_test_id("stMain")
        assert "l1 λ=0.001" in main_a.inner_text() and f"of {LONG_EPOCHS} " in main_a.inner_text()
        assert "tl1 λ=0.1" in main_b.inner_text() and f"of {LONG_EPOCHS - 50} " in main_b.inner_text()
        assert b not in run_caption(tab_a) and a not in run_caption(tab_b)

        tab_a.get_by_role("button", name="Stop").click()
        wait_until(lambda: "stopped" in run_caption(tab_a), 120, "session A to show its run stopped")
        assert store.get_run(a)["status"] == "stopped"
        # Session B's run is untouched, and B still shows it live.
        assert store.get_run(b)["status"] == "running" and pid_alive(store.get_run(b)["pid"])
        store_progress_moves(store, b)
        shows_live(tab_b, b)
        assert a not in run_caption(tab_b)

        tab_b.get_by_role("button", name="Stop").click()
        wait_until(lambda: "stopped" in run_caption(tab_b), 120, "session B to show its run stopped")
        assert store.get_run(b)["status"] == "stopped"
        for tab in (tab_a, tab_b):
            assert "Traceback" not in tab.get_by_test_id("stMain").inner_text()
    finally:
        stop_server(server)
