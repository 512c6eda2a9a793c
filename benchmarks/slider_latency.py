"""Prune-page threshold latency in a real browser: the browser-side control (issue 19) beside today's server-side
slider, measured in the same run on the same trained run.

    python -m benchmarks.slider_latency            # writes benchmarks/results/slider_latency.md

Sets up its own store in a temporary folder (the default run: `slimcore train` defaults, slimnet on mnist5k; its
trade-off curve computed up front), starts `streamlit run` on free ports and drives Debian's chromium with
Playwright. Measured inside the page with `performance.now()`:

- drag: the control dragged across its range in 100 mouse steps; each `input` event → every figure updated (the
  metrics, the curve's marker, the histogram's threshold line, the per-layer bars). Target p95 ≤ 16 ms.
- release: a click on the track (release = `change`) → the exact accuracy of that threshold shown, after the
  server evaluated it (or looked it up when a curve point cuts the same plan). Target p95 ≤ 300 ms.

And, as before, from Python: key press on a server-side `st.select_slider` over the curve's points (today's
mechanism, with the same metrics and three plotly charts) → the metrics, → the charts redrawn; and a bare page
(slider + one metric), Streamlit's own floor.
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
TARGET_INPUT_P95_MS = 16.0
TARGET_RELEASE_P95_MS = 300.0
TARGET_SERVER_P95_MS = 250.0  # what the server-side slider was held to

# Signatures polled on each animation frame: the text of every st.metric value, and the drawn marks of every
# plotly chart (bar and marker paths, line paths) — a chart's signature changes once it has been redrawn.
METRICS_JS = "() => [...document.querySelectorAll('[data-testid=stMetricValue]')].map(e => e.innerText).join('|')"
CHARTS_JS = ("() => [...document.querySelectorAll('.js-plotly-plot')].map(p => [...p.querySelectorAll("
             "'path.js-line, path.point, .point > path')].map(e => (e.getAttribute('d') || '') + "
             "(e.getAttribute('transform') || '')).join()).join('|')")
CHANGED_JS = "([js, prev]) => eval(js)() !== prev"


def prepare_store(runs_dir: Path) -> tuple[str, int]:
    """Trains the default run and computes its trade-off curve, so pages only look points up; (run id, points)."""
    from slimcore import jobs
    from slimcore.config import TrainConfig
    from slimcore.pruning import get_curve
    from slimcore.store import RunStore

    store = RunStore(runs_dir)
    run_id = jobs.create_run(store, TrainConfig())
    status, message = jobs.run_training(store, run_id)
    if status != "finished":
        raise SystemExit(f"training ended {status}: {message}")
    return run_id, len(get_curve(store, run_id, ranking="bn")["points"])


def reuse_or_prepare(runs_dir: Path) -> tuple[str, int]:
    """The store's finished default run and its curve's points when it has one; else `prepare_store`."""
    from slimcore.pruning import get_curve
    from slimcore.store import RunStore

    if (runs_dir / "slimcore.db").exists():
        done = [r for r in RunStore(runs_dir).list_runs(kind="train") if r["status"] == "finished"]
        if done:
            return done[0]["id"], len(get_curve(RunStore(runs_dir), done[0]["id"], ranking="bn")["points"])
    return prepare_store(runs_dir)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(runs_dir: Path, script: Path = ROOT / "app.py") -> tuple[subprocess.Popen, str]:
    """`streamlit run` of `script` on a free port, from the repository root (so .streamlit/config.toml applies)."""
    port = free_port()
    env = {**os.environ, "SLIMCORE_RUNS_DIR": str(runs_dir), "PYTHONPATH": str(ROOT)}
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


def launch(p):
    browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
    return browser, browser.new_page(viewport={"width": 1400, "height": 1600})


# -- the browser-side control ---------------------------------------------------------------------------------
def measure_control(url: str, run_id: str, steps: int, releases: int, runs_dir: Path) -> dict:
    """In-page timings of a 100-step drag (input → DOM updated, → next frame) and of `releases` clicks on the
    track (release → exact accuracy shown), each release classed as evaluated or looked up."""
    from playwright.sync_api import sync_playwright

    from slimcore.pruning.browser_preview import PayloadPreview, payload_for
    from slimcore.store import RunStore

    preview = PayloadPreview(payload_for(RunStore(runs_dir), run_id, "bn"))
    with sync_playwright() as p:
        browser, page = launch(p)
        page.goto(f"{url}/Prune?run={run_id}")
        root = page.locator(".slim-thr")
        root.wait_for(timeout=600_000)
        page.wait_for_function("() => document.querySelector('.slim-thr[data-position]')", timeout=120_000)
        timings = "() => document.querySelector('.slim-thr').thresholdControl.timings"
        reset = "() => { const t = document.querySelector('.slim-thr').thresholdControl.timings;" \
                " t.input.length = 0; t.paint.length = 0; t.release.length = 0; }"
        slider = page.get_by_role("slider", name="threshold")
        box = slider.bounding_box()
        y, left, right = box["y"] + box["height"] / 2, box["x"] + 6, box["x"] + box["width"] - 6

        def drag(start: float, end: float) -> None:
            page.mouse.move(start, y)
            page.mouse.down()
            for i in range(1, steps + 1):
                page.mouse.move(start + (end - start) * i / steps, y)
            page.mouse.up()

        drag(right, left)  # warm-up (the JIT, the first layouts), then wait for its release to settle
        page.wait_for_timeout(3000)
        page.evaluate(reset)
        drag(left, right)
        page.wait_for_timeout(500)
        dragged = page.evaluate(timings)
        inputs, paints = list(dragged["input"]), list(dragged["paint"])
        page.wait_for_timeout(3000)

        evaluated, looked_up = [], []
        import random

        rng = random.Random(0)
        for _ in range(releases):
            page.evaluate(reset)
            before = int(root.get_attribute("data-position"))
            for _ in range(20):  # a click far enough from the thumb to move it
                x = rng.uniform(left, right)
                if abs((x - left) / (right - left) * (len(preview.thresholds) - 1) - before) > 5:
                    break
            page.mouse.click(x, y)
            try:
                page.wait_for_function("() => document.querySelector('.slim-thr').thresholdControl.timings"
                                       ".release.length > 0", timeout=30_000)
            except Exception:
                continue
            ms = page.evaluate(timings)["release"][0]
            t = float(root.get_attribute("data-threshold"))
            (looked_up if preview.evaluated_at(t) is not None else evaluated).append(ms)
            page.wait_for_timeout(400)
        browser.close()
    return {"input": inputs, "paint": paints, "evaluated": evaluated, "looked_up": looked_up,
            "positions": len(preview.thresholds)}


# -- today's server-side slider ---------------------------------------------------------------------------------
def measure_server(url: str, moves: int, warmup: int) -> tuple[list[float], list[float]]:
    """Milliseconds from each ArrowRight/ArrowLeft press to (the metrics, every chart) showing the new point."""
    from playwright.sync_api import sync_playwright

    metrics: list[float] = []
    charts: list[float] = []
    with sync_playwright() as p:
        browser, page = launch(p)
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
                # every chart's marks differ from before (each one moves with the threshold); not counted when
                # one does not (two neighbouring points in the tied block near 0 draw the same threshold line)
                try:
                    page.wait_for_function(
                        "([js, prev]) => { const now = eval(js)().split('|'), old = prev.split('|');"
                        " return now.length === old.length && now.every((s, k) => s !== old[k]); }",
                        arg=[CHARTS_JS, prev_charts], polling="raf", timeout=3000)
                    drawn = (time.perf_counter() - start) * 1000
                except Exception:
                    pass
            if i >= warmup:
                metrics.append(shown)
                if drawn is not None:
                    charts.append(drawn)
            page.wait_for_timeout(150)  # a user's pace between presses
        browser.close()
    return metrics, charts


# Today's mechanism, as the Prune page had it before the browser-side control: a select slider over the curve's
# points, every move a rerun that looks the point up and redraws five metrics and three plotly charts.
SERVER_APP = """import time
import streamlit as st
from app_support.store import get_store
from slimcore.pruning.curve import stored_curve
from slimcore.pruning.points import channel_totals, distinct_points, flops_percent, ordered_points, point_labels, ratio
from slimcore.pruning.settings import CurveSettings
from slimcore.viz import gamma_histogram, layer_widths, tradeoff_curve

store = get_store()
run_id = store.list_runs(kind="train")[0]["id"]
run = store.get_run(run_id)
if "curve" not in st.session_state:
    st.session_state["curve"] = stored_curve(store, run_id, CurveSettings())
curve = st.session_state["curve"]
points, base = distinct_points(ordered_points(curve)), curve["base"]
flops = [flops_percent(p, base, points) for p in points]
labels = point_labels(points)
idx = st.select_slider("threshold", options=list(range(len(points))), key="idx", format_func=labels.__getitem__)
point = points[idx]
totals = channel_totals(curve, run["layers"])
kept = sum(int(point["widths"].get(k, v)) for k, v in totals.items())
m = st.columns(5)
m[0].metric("val accuracy", f"{point['accuracy']:.2%}", f"{(point['accuracy'] - base['accuracy']) * 100:+.2f} pp")
m[1].metric("FLOPs", f"{flops[idx]:.1f} %", f"{flops[idx] - 100:+.1f} %", delta_color="inverse")
m[2].metric("parameters", f"{ratio(point['params'], base['params']):.1%}")
m[3].metric("channels kept", f"{kept} / {sum(totals.values())}")
m[4].metric("output change", f"{point['output_change']:.1%}")
CHART = dict(width="stretch", config={"displayModeBar": False})
time.sleep(0.03)
g1, g2 = st.columns(2)
g1.plotly_chart(gamma_histogram(curve["channel_scores"], threshold=float(point["threshold"]), title="",
                                label_threshold=False), key="hist", **CHART)
g2.plotly_chart(tradeoff_curve(points, current=point, base=base, title="", label_base=False), key="curve", **CHART)
st.plotly_chart(layer_widths(point["widths"], totals, title=""), key="widths", **CHART)
"""

# The floor: Streamlit's own round trip for a page with nothing but the slider and one metric.
BARE_APP = """import streamlit as st
i = st.select_slider("threshold", options=list(range(50)), key="t")
st.metric("value", f"{i * 1.5:.1f}")
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def served(runs_dir: Path, script: Path, work):
    proc, url = start_server(runs_dir, script)
    try:
        return work(url)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def summary_row(name: str, values: list[float], digits: int = 0) -> str:
    if not values:
        return f"| {name} | – | – | – | – | 0 |"
    f = f"{{:.{digits}f}} ms"
    return (f"| {name} | {f.format(statistics.median(values))} | {f.format(percentile(values, 0.95))} | "
            f"{f.format(min(values))} | {f.format(max(values))} | {len(values)} |")


def verdict(values: list[float], target: float) -> str:
    if not values:
        return "not measured"
    p95 = percentile(values, 0.95)
    return f"**{'meets' if p95 <= target else 'misses'}** it ({p95:.1f} ms)"


def write_report(control: dict, server: tuple[list[float], list[float]], bare: list[float], points: int,
                 load: tuple[float, float], args: argparse.Namespace) -> str:
    from benchmarks.machine import describe_machine, save_result

    releases = control["evaluated"] + control["looked_up"]
    text = "\n".join([
        "# Prune page: threshold latency",
        "",
        "The browser-side threshold control (issue 19) beside today's server-side slider, on the same run in the "
        f"same run of `python -m benchmarks.slider_latency` ({time.strftime('%Y-%m-%d %H:%M')}), Debian chromium "
        "headless.",
        "",
        f"- machine: {describe_machine()}",
        f"- load average (1 min) before / after: {load[0]:.2f} / {load[1]:.2f}: **the machine is shared with other "
        "jobs** while this runs (the bare page below shows Streamlit's own floor at the time)",
        f"- run: the default (`slimcore train` defaults: slimnet on `mnist5k`); ranking `bn`; {points} curve points "
        f"computed before the pages opened; the control moves over {control['positions']} positions (every "
        "distinct plan)",
        "",
        "| what | median | p95 | min | max | n |",
        "|---|---:|---:|---:|---:|---:|",
        summary_row("control: input → every figure updated (in-page, DOM)", control["input"], 2),
        summary_row("control: input → next frame (rAF + task)", control["paint"], 1),
        summary_row("control: release → exact accuracy shown (evaluated)", control["evaluated"]),
        summary_row("control: release → exact accuracy shown (curve look-up)", control["looked_up"]),
        summary_row("control: release → exact accuracy shown (all)", releases),
        summary_row("server-side slider (today's): key → metrics", server[0]),
        summary_row("server-side slider (today's): key → all three charts", server[1]),
        summary_row("bare page (slider + one metric): floor", bare),
        "",
        f"- Drag target p95 ≤ {TARGET_INPUT_P95_MS:.0f} ms (input → every figure): the control "
        f"{verdict(control['input'], TARGET_INPUT_P95_MS)}.",
        f"- Release target p95 ≤ {TARGET_RELEASE_P95_MS:.0f} ms (release → exact accuracy), thresholds the server "
        f"had to evaluate: {verdict(control['evaluated'], TARGET_RELEASE_P95_MS)}; all releases: "
        f"{verdict(releases, TARGET_RELEASE_P95_MS)}.",
        f"- Today's server-side slider, metrics, p95 ≤ {TARGET_SERVER_P95_MS:.0f} ms: "
        f"{verdict(server[0], TARGET_SERVER_P95_MS)}; its charts follow in the time above.",
        "",
        f"Drag: {args.steps} mouse steps left to right after one warm-up drag back; each `input` event is timed from "
        "its `event.timeStamp` to the end of its handler (the metrics, the curve marker, the histogram line and "
        "the per-layer bars all rewritten), and to the next animation frame. Release: "
        f"{args.releases} clicks at random places on the track, timed from the `change` event to the DOM showing "
        "the exact accuracy the server sent back (the page reruns, evaluates the threshold with `preview_at`, or "
        "looks it up when a curve point cuts the same plan).",
        "",
        "Release, each in ms: " + ", ".join(f"{v:.0f}" for v in releases),
        "",
    ])
    save_result("slider_latency.md", text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.slider_latency", description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=100, help="mouse steps of the drag")
    parser.add_argument("--releases", type=int, default=20, help="clicks on the track, each a release")
    parser.add_argument("--moves", type=int, default=20, help="key presses on the server-side slider")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--runs-dir", default=None, help="store to prepare the run in, reused when it holds one "
                                                         "(default: a temporary folder)")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as tmp:
        runs_dir = Path(args.runs_dir) if args.runs_dir else Path(tmp) / "runs"
        run_id, points = reuse_or_prepare(runs_dir)
        for name, text in (("server_slider.py", SERVER_APP), ("bare_slider.py", BARE_APP)):
            (Path(tmp) / name).write_text(text)
        load_before = os.getloadavg()[0]
        control = served(runs_dir, ROOT / "app.py",
                         lambda url: measure_control(url, run_id, args.steps, args.releases, runs_dir))
        server = served(runs_dir, Path(tmp) / "server_slider.py", lambda url: measure_server(url, args.moves, args.warmup))
        bare, _ = served(runs_dir, Path(tmp) / "bare_slider.py", lambda url: measure_server(url, args.moves, args.warmup))
        load_after = os.getloadavg()[0]
    if not control["input"]:
        raise SystemExit("the drag changed nothing")
    print(write_report(control, server, bare, points, (load_before, load_after), args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
