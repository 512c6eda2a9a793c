"""What the browser tests share: a real `streamlit run app.py` on a free port, Debian's chromium, waiting."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
# Tall, so a page's content is in the screenshot (Streamlit scrolls an inner container, not the document).
VIEWPORT = {"width": 1400, "height": 2300}


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (or `make browser`)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(runs_dir: Path, log_path: Path, port: int | None = None,
                 timeout: float = 60) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` on a loopback port, in its own process group; returns (process, base url)."""
    port = port or free_port()
    env = {**os.environ, "SLIMCORE_RUNS_DIR": str(runs_dir)}
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
           str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    log = open(log_path, "ab")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    stop_server(proc)
    raise RuntimeError(f"streamlit did not answer its health check within {timeout:.0f} s")


def stop_server(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def stop_jobs(runs_dir: Path) -> None:
    """Stops every training job still running in the store (each runs in its own session)."""
    from slimcore.store import RunStore

    if not (runs_dir / "slimcore.db").exists():
        return
    for run in RunStore(runs_dir).list_runs():
        if run["status"] in ("starting", "running") and run["pid"]:
            try:
                os.killpg(run["pid"], signal.SIGTERM)
            except ProcessLookupError:
                pass


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)


@contextmanager
def serving(runs_dir: Path, log_path: Path):
    """The app on store `runs_dir` for the `with` block (its base url); then its jobs and the server stopped."""
    proc, url = start_server(runs_dir, log_path)
    try:
        yield url
    finally:
        stop_jobs(runs_dir)
        stop_server(proc)


@contextmanager
def browser_tab(timeout_ms: float = 60_000, accept_downloads: bool = False):
    """One page in a fresh chromium at the tests' viewport, `timeout_ms` its default wait."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_browser(p)
        try:
            page = browser.new_context(viewport=VIEWPORT, accept_downloads=accept_downloads).new_page()
            page.set_default_timeout(timeout_ms)
            yield page
        finally:
            browser.close()


def open_page(page, url: str) -> None:
    page.goto(url)
    page.get_by_test_id("stMain").wait_for()


def wait_until(predicate, timeout: float, what: str, every: float = 0.5, fail: bool = True):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    if fail:
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
    return None


# -- reading and setting Streamlit widgets -------------------------------------------------------------------
def choose(page, label: str, option: str) -> None:
    """Picks `option` (its whole label) in the select box labelled `label`, with the mouse."""
    page.get_by_test_id("stSelectbox").filter(has_text=label).get_by_role("combobox").click()
    page.get_by_role("option", name=option, exact=True).click()


def shown_option(page, label: str) -> str:
    """The option the select box labelled `label` shows (its label text)."""
    return page.get_by_role("combobox", name=label, exact=True).input_value()


def set_number(page, label: str, value) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")


def run_caption(page) -> str:
    """The Train page's live line `run ID · STATUS · updated …`."""
    return page.get_by_test_id("stCaptionContainer").filter(has_text=re.compile(r"^run ")).first.inner_text()


def location(page) -> str:
    """The address the tab shows now. Playwright's `page.url` can miss Streamlit's query updates (it writes
    ?run=… with history.replaceState), so ask the page."""
    return page.evaluate("location.href")
