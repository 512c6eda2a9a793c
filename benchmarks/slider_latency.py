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
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
TARGET_P95_MS = 250.0

# Signatures polled on each animation frame: the text of every st.metric value, and the drawn marks of every
# plotly chart (bar and marker paths, line paths) — a chart's signature changes once it has been redrawn.
METRICS_JS = "() => [...document.querySelectorAll('[data-testid=stMetricValue]')].map(e => e.innerText).join('|')"
CHARTS_JS = ("() => [...document.querySelectorAll('.js-plotly-plot')].map(p => [...p.querySelectorAll("
             "'path.js-line, path.point, .point > path')].map(e => (e.getAttribute('d') || '') + "
             "(e.getAttribute('transform') || '')).join()).join('|')")
CHANGED_JS = "([js, prev]) => eval(js)() !== prev"


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


def start_server(runs_dir: Path, script: Path = ROOT / "app.py") -> tuple[subprocess.Popen, str]:
    """`streamlit run` of `script` on a free port, from the repository root (so .streamlit/config.toml applies)."""
    port = free_port()
    env = {**os.environ, "SLIMCORE_RUNS_DIR": str(runs_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true", "--server.port", str(port),
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


def measure(url: str, moves: int, warmup: int) -> tuple[list[float], list[float]]:
    """Milliseconds from each ArrowRight/ArrowLeft press to (the metrics, every chart) showing the new point."""
    from playwright.sync_api import sync_playwright

    metrics: list[float] = []
    charts: list[float] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(url)
        slider = page.get_by_role("slider", name="threshold")
        slider.wait_for(timeout=300_000)
        page.get_by_test_id("stMetricValue").first.wait_for()
        slider.focus()
        page.keyboard.press("Home")
        page.wait_for_timeout(1500)
        n_charts = page.locator(".js-plotly-plot").count()
        key = "ArrowRight"
        for i in range(warmup + moves):
            prev_metrics, prev_charts = page.evaluate(METRICS_JS), page.evaluate(CHARTS_JS)
            start = time.perf_counter()
            page.keyboard.press(key)
            try:
                page.wait_for_function(CHANGED_JS, arg=[METRICS_JS, prev_metrics], polling="raf", timeout=5000)
            except Exception:  # the end of the slider: turn round, do not count it
                key = "ArrowLeft" if key == "ArrowRight" else "ArrowRight"
                continue
            shown = (time.perf_counter() - start) * 1000
            drawn = None
            if n_charts:
                # every chart's marks differ from before (each one moves with the threshold)
                page.wait_for_function(
                    "([js, prev]) => { const now = eval(js)().split('|'), old = prev.split('|');"
                    " return now.length === old.length && now.every((s, k) => s !== old[k]); }",
                    arg=[CHARTS_JS, prev_charts], polling="raf", timeout=5000)
                drawn = (time.perf_counter() - start) * 1000
            if i >= warmup:
                metrics.append(shown)
                if drawn is not None:
                    charts.append(drawn)
            page.wait_for_timeout(150)  # a user's pace between presses
        browser.close()
    return metrics, charts


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# The floor: Streamlit's own round trip for a page with nothing but the slider and one metric.
BARE_APP = """import streamlit as st
i = st.select_slider("threshold", options=list(range(50)), key="t")
st.metric("value", f"{i * 1.5:.1f}")
"""


def run_page(runs_dir: Path, path: str, moves: int, warmup: int,
             script: Path = ROOT / "app.py") -> tuple[list[float], list[float]]:
    proc, url = start_server(runs_dir, script)
    try:
        return measure(f"{url}{path}", moves, warmup)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def summary_row(name: str, values: list[float]) -> str:
    return (f"| {name} | {statistics.median(values):.0f} ms | {percentile(values, 0.95):.0f} ms | "
            f"{min(values):.0f} ms | {max(values):.0f} ms |")


def write_report(latencies: list[float], charts: list[float], bare: list[float], points: int,
                 load: tuple[float, float], args: argparse.Namespace) -> str:
    from benchmarks.machine import describe_machine, save_result

    p95 = percentile(latencies, 0.95)
    verdict = "meets" if p95 <= TARGET_P95_MS else "misses"
    text = "\n".join([
        "# Prune page: slider latency",
        "",
        "Key press on the threshold slider → every `st.metric` showing the new point (and → all three charts "
        "redrawn), measured in Debian chromium (headless) by `python -m benchmarks.slider_latency` on "
        f"{time.strftime('%Y-%m-%d %H:%M')}.",
        "",
        f"- machine: {describe_machine()}",
        f"- load average (1 min) before / after: {load[0]:.2f} / {load[1]:.2f} (other jobs share these cores; "
        "the bare page below shows the machine's own floor at the time)",
        f"- run: slimnet on `{args.dataset}`, {args.epochs} epoch(s); ranking `{args.ranking}`, {points} curve points "
        "(computed before the page opened, so each move is a look-up)",
        f"- moves: {len(latencies)} counted after {args.warmup} warm-up, 150 ms apart",
        "",
        "| what | median | p95 | min | max |",
        "|---|---:|---:|---:|---:|",
        summary_row("Prune: metrics updated", latencies),
        summary_row("Prune: all three charts redrawn", charts) if charts else "",
        summary_row("bare page (slider + one metric): floor", bare),
        "",
        f"Target p95 ≤ {TARGET_P95_MS:.0f} ms for the metrics: the Prune page **{verdict}** it ({p95:.0f} ms).",
        "",
        "Metrics, each move in ms: " + ", ".join(f"{v:.0f}" for v in latencies),
        "",
        "What it took: the slider only looks points up (the curve is computed once and kept in the session); "
        "the three figures are built without plotly's validation (~0.2 ms instead of ~20 ms each), carry no "
        "titles or labels to measure, and the threshold line is a trace (a data change, not a layout change); "
        "`runner.postScriptGC = false` in `.streamlit/config.toml` stops Streamlit's full `gc.collect()` after "
        "every rerun (~190 ms with torch loaded, during which the answer waited); and the page pauses 30 ms "
        "after the metrics so they reach the browser, and are painted, before the ~150 ms of plotly redraws.",
        "",
    ])
    save_result("slider_latency.md", text)
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
        bare_app = Path(tmp) / "bare_slider.py"
        bare_app.write_text(BARE_APP)
        load_before = os.getloadavg()[0]
        latencies, charts = run_page(runs_dir, "/Prune", args.moves, args.warmup)
        bare, _ = run_page(runs_dir, "/", args.moves, args.warmup, script=bare_app)
        load_after = os.getloadavg()[0]
    if not latencies or not bare:
        raise SystemExit("no slider move changed the metrics")
    print(write_report(latencies, charts, bare, points, (load_before, load_after), args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
