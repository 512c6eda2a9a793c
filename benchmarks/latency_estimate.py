"""How well latency between timed curve points is estimated from its neighbours along FLOPs, per backend.

Run: .venv/bin/python benchmarks/latency_estimate.py
Trains the default run (slimnet on mnist5k, `slimcore train` defaults), times a 20-point curve on PyTorch eager and
ONNX Runtime (CPU) at batch 1 and 32 with `slimcore.pruning.latency_curve.time_curve` (median of 20 after warm-up),
and reports each backend's leave-one-out estimate error, with the latency kept against the FLOPs kept at a few
points. Writes benchmarks/results/latency_estimate.md.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.pruning_common import train, write_result  # noqa: E402
from slimcore.config import TrainConfig  # noqa: E402
from slimcore.pruning.latency_curve import LatencySettings, time_curve  # noqa: E402
from slimcore.store import RunStore  # noqa: E402

BACKENDS = ("torch-cpu", "onnxruntime")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(tmp)
        run_id = train(store, TrainConfig(label="bench-default"))
        settings = LatencySettings(points=20, backends=BACKENDS, batch=32, repeats=20)
        result = time_curve(store, run_id, settings, lambda d, t, m: print(f"[{d}/{t}] {m}", flush=True))
    rows = []
    for backend in BACKENDS:
        for key in settings.batch_keys():
            e = result["estimate_error"][backend][key]
            base = result["base"]["latency_ms"][backend][key]
            kept = {round(p["flops_ratio"], 2): p["latency_ms"][backend][key] / base for p in result["points"]}
            at = [min(kept, key=lambda f: abs(f - target)) for target in (0.75, 0.5, 0.25)]
            rows.append(f"| {backend} | {key[5:]} | {base:.4g} | " + " | ".join(f"{kept[f]:.0%} at {f:.0%}" for f in at)
                        + f" | {e['median_rel']:.1%} | {e['max_rel']:.1%} |")
    body = (f"{result['threads']} torch threads; {len(result['points'])} curve points plus the unpruned model, each the "
            "committed model of its threshold; median of 20 passes after 3 warm-up passes. The estimate between timed "
            "points is linear along FLOPs; its error is each interior point left out and estimated from the others.\n\n"
            "| backend | batch | unpruned ms | latency kept at FLOPs kept | | | estimate error, median | largest |\n"
            "|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    write_result("latency_estimate.md", "Latency between timed curve points: the estimate and its error", body)


if __name__ == "__main__":
    main()
