"""Prune-page slider latency in a real browser: key press → updated metrics, median and p95 over 20 moves.

    python -m benchmarks.slider_latency            # writes benchmarks/results/slider_latency.md

Sets up its own store in a temporary folder (one short training run, its trade-off curve computed up front), starts
`streamlit run app.py` on a free port and drives Debian's chromium with Playwright. Target: p95 ≤ 250 ms.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "slider_latency.md"
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
TARGET_P95_MS = 250.0

# Resolves when the joined text of every st.metric value differs from `prev`; polled on each animation frame.
METRICS_JS = "() => [...document.querySelectorAll('[data-testid=stMetricValue]')].map(e => e.innerText).join('|')"
CHANGED_JS = ("prev => [...document.querySelectorAll('[data-testid=stMetricValue]')]"
              ".map(e => e.innerText).join('|') !== prev")


def prepare_store(runs_dir: Path, dataset: str, epochs: int, ranking: str) -> tuple[str, int]:
    """Trains one run and computes its trade-off curve, so the page only looks points up; returns (run id, points)."""
    from slimcore import jobs
    from slimcore.config import TrainConfig
    from slimcore.pruning import get_curve
    from slimcore.store import RunStore

    store = RunStore(runs_dir)
    config = TrainConfig(dataset=dataset, epochs=epochs, penalty="l1", lam=3e-3,
                         penalty_params={"mode": "proximal"})
    run_id = jobs.create_run(store, config)
    status, message = jobs.run_training(store, run_id)
    if status != "finished":
        raise SystemExit(f"training ended {status}: {message}")
    curve = get_curve(store, run_id, ranking=ranking)
    return run_id, len(curve["points"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(runs_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "SLIMCORE_RUNS_DIR": str(runs_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit("streamlit did not start")


def measure(url: str, moves: int, warmup: int) -> list[float]:
    """Milliseconds from each ArrowRight/ArrowLeft press to the metrics showing the new point."""
    from playwright.sync_api import sync_playwright

    latencies: list[float] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(f"{url}/Prune")
        slider = page.get_by_role("slider", name="threshold")
        slider.wait_for(timeout=300_000)
        page.get_by_test_id("stMetricValue").first.wait_for()
        slider.focus()
        page.keyboard.press("Home")
        page.wait_for_timeout(1500)
        key = "ArrowRight"
        for i in range(warmup + moves):
            prev = page.evaluate(METRICS_JS)
            start = time.perf_counter()
            page.keyboard.press(key)
            try:
                page.wait_for_function(CHANGED_JS, arg=prev, polling="raf", timeout=5000)
            except Exception as e:  # the end of the slider (or two identical points): turn round, do not count it
                focus = page.evaluate("document.activeElement.tagName + ' ' + (document.activeElement.getAttribute('aria-label') || '')")
                print(f"move {i}: no change ({type(e).__name__}, focus on {focus}); turning round", file=sys.stderr)
                if os.environ.get("SHOT"):
                    page.screenshot(path=f"/tmp/exp2/fail{i}.png")
                    print(page.get_by_role("slider", name="threshold").get_attribute("aria-valuetext"), file=sys.stderr)
                key = "ArrowLeft" if key == "ArrowRight" else "ArrowRight"
                continue
            elapsed = (time.perf_counter() - start) * 1000
            if i >= warmup:
                latencies.append(elapsed)
            page.wait_for_timeout(150)  # a user's pace between presses; lets plotly finish drawing
        browser.close()
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def write_report(latencies: list[float], points: int, args: argparse.Namespace) -> str:
    from benchmarks.machine import describe_machine

    median, p95 = statistics.median(latencies), percentile(latencies, 0.95)
    verdict = "meets" if p95 <= TARGET_P95_MS else "misses"
    text = "\n".join([
        "# Prune page: slider latency",
        "",
        f"Key press on the threshold slider → every `st.metric` showing the new point, measured in Debian chromium "
        f"(headless) by `python -m benchmarks.slider_latency` on {time.strftime('%Y-%m-%d')}.",
        "",
        f"- machine: {describe_machine()}",
        f"- run: slimnet on `{args.dataset}`, {args.epochs} epoch(s); ranking `{args.ranking}`, {points} curve points "
        f"(computed before the page opened, so each move is a look-up)",
        f"- moves: {len(latencies)} counted after {args.warmup} warm-up",
        "",
        "| median | p95 | min | max | target p95 |",
        "|---:|---:|---:|---:|---:|",
        f"| {median:.0f} ms | {p95:.0f} ms | {min(latencies):.0f} ms | {max(latencies):.0f} ms | "
        f"≤ {TARGET_P95_MS:.0f} ms ({verdict}) |",
        "",
        "Each move, in ms: " + ", ".join(f"{v:.0f}" for v in latencies),
        "",
    ])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.slider_latency", description=__doc__.split("\n")[0])
    parser.add_argument("--moves", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--dataset", default="digits", help="data set of the run (digits: fastest to set up)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--ranking", default="bn")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as tmp:
        runs_dir = Path(tmp) / "runs"
        _, points = prepare_store(runs_dir, args.dataset, args.epochs, args.ranking)
        proc, url = start_server(runs_dir)
        try:
            latencies = measure(url, args.moves, args.warmup)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
    if not latencies:
        raise SystemExit("no slider move changed the metrics")
    print(write_report(latencies, points, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
