"""Latency ratio against FLOPs ratio with and without --round-to 8 / 16, on CPU, PyTorch eager and ONNX Runtime.

Run: .venv/bin/python benchmarks/round_to_latency.py
Trains the default run, prunes it to at most 70 / 50 / 30 % of its FLOPs (|γ| ranking) with kept widths free,
multiples of 8 and multiples of 16 (`LayerRules(round_to=N)`), and times original vs pruned at batch 1 and 64
(fastest and median of alternating rounds, one thread): PyTorch eager and ONNX Runtime on the model.onnx
`slimcore prune` writes. Adds resnet20 on 3×32×32 inputs with random γ (latency does not depend on the values).
Writes benchmarks/results/round_to_latency.md.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from benchmarks.pruning_common import train, write_result  # noqa: E402
from slimcore.analysis.structure import analyse, pruned_model  # noqa: E402
from slimcore.config import TrainConfig  # noqa: E402
from slimcore.models import create_model  # noqa: E402
from slimcore.pruning.export import export_onnx  # noqa: E402
from slimcore.pruning.math.plan import select_flops  # noqa: E402
from slimcore.pruning.math.rankings import bn_scores  # noqa: E402
from slimcore.pruning.math.rules import LayerRules, limits_for  # noqa: E402
from slimcore.pruning.trained import load_trained  # noqa: E402
from slimcore.store import RunStore  # noqa: E402

RATIOS = (0.7, 0.5, 0.3)
ROUNDS = (1, 8, 16)
REPEATS = {1: 300, 64: 100}  # per batch size: alternating rounds after 5 warm-up passes
THREADS = 1  # one intra-op thread for torch and ONNX Runtime: on a shared 2-core machine, 2 threads mostly wait


def time_alternately(runners: dict[str, Callable[[], object]], repeats: int, warmup: int = 5) -> dict[str, tuple]:
    """(fastest ms, median ms) per runner; rounds alternate between the runners so that load drift hits all alike.
    The fastest pass is the one least disturbed by other processes, the figure that is stable on a shared machine."""
    for run in runners.values():
        for _ in range(warmup):
            run()
    times: dict[str, list[float]] = {k: [] for k in runners}
    for _ in range(repeats):
        for k, run in runners.items():
            t = time.perf_counter()
            run()
            times[k].append(time.perf_counter() - t)
    return {k: (1000 * min(v), 1000 * statistics.median(v)) for k, v in times.items()}


def eager_runner(model: nn.Module, x: torch.Tensor) -> Callable[[], object]:
    def run():
        with torch.inference_mode():
            return model(x)
    return run


def ort_runner(path: str, x: np.ndarray) -> Callable[[], object]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = THREADS
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    return lambda: session.run(None, {"input": x})


def rows_for(label: str, model: nn.Module, input_shape: tuple[int, int, int], folder: Path,
             compensation=None) -> tuple[list[str], str]:
    structure = analyse(model, input_shape)
    scores = bn_scores(model, structure.groups)
    base = structure.macs(structure.empty_plan())
    stem = label.split()[0]
    original = export_onnx(model.eval(), input_shape, folder / f"{stem}-original.onnx")["path"]
    inputs = {b: torch.randn(b, *input_shape) for b in REPEATS}
    rows, absolute = [], {}
    for ratio in RATIOS:
        for n in ROUNDS:
            limits = limits_for(LayerRules(round_to=n), structure.groups)
            sel = select_flops(scores, ratio, structure.macs, 1, limits)
            pruned = pruned_model(model, structure, sel.plan, compensation).eval()
            path = export_onnx(pruned, input_shape, folder / f"{stem}-{ratio}-{n}.onnx")["path"]
            widths = [g.width - len(r) for g, r in zip(structure.groups, sel.plan)]
            assert all(w % n == 0 or w == g.width for w, g in zip(widths, structure.groups))
            cells = [label, "—" if n == 1 else str(n), f"{ratio:.0%}", f"{structure.macs(sel.plan) / base:.1%}",
                     " ".join(str(w) for w in widths)]
            for backend in ("eager", "onnxruntime"):
                for batch, repeats in REPEATS.items():
                    x = inputs[batch]
                    if backend == "eager":
                        runners = {"o": eager_runner(model, x), "p": eager_runner(pruned, x)}
                    else:
                        runners = {"o": ort_runner(original, x.numpy()), "p": ort_runner(path, x.numpy())}
                    ms = time_alternately(runners, repeats)
                    absolute.setdefault((backend, batch), []).append(ms["o"][0])
                    cells.append(f"{ms['p'][0] / ms['o'][0]:.1%} ({ms['p'][1] / ms['o'][1]:.0%})")
            rows.append("| " + " | ".join(cells) + " |")
            print(rows[-1], flush=True)
    ref = ", ".join(f"{b} batch {k} {statistics.median(v):.3f} ms" for (b, k), v in absolute.items())
    return rows, f"{label}, unpruned, fastest pass: {ref}"


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(THREADS)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = RunStore(folder / "runs")
        trained = load_trained(store, train(store, TrainConfig(label="bench-default")))
        rows, refs = rows_for("slimnet 1×28×28 (default run)", trained.model, trained.input_shape, folder,
                              trained.compensation)
        resnet = create_model("resnet20", 10, 3, 32).eval()
        with torch.no_grad():
            for m in resnet.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.weight.copy_(torch.rand(m.num_features))
        more, ref2 = rows_for("resnet20 3×32×32 (random γ)", resnet, (3, 32, 32), folder)
    import onnxruntime as ort

    body = (
        f"{THREADS} thread (torch intra-op; ONNX Runtime {ort.__version__} CPUExecutionProvider, intra- and inter-op), "
        "eval mode. Each cell: the pruned model's latency as a share of the unpruned one's, fastest pass (median "
        f"pass in brackets) of {REPEATS[1]} (batch 1) / {REPEATS[64]} (batch 64) alternating rounds after 5 warm-up "
        "passes. The machine is shared with other jobs, so the fastest pass, the least disturbed, is the headline "
        "figure. `round-to` — = free widths; N = every kept width a multiple of N or the whole group "
        "(`--round-to N`). FLOPs target: `--flops-ratio`, the lowest threshold within it.\n\n"
        f"- {refs}\n- {ref2}\n\n"
        "| model | round-to | FLOPs target | FLOPs kept | kept widths per group | eager b1 | eager b64 | ORT b1 "
        "| ORT b64 |\n|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows + more) + "\n"
    )
    write_result("round_to_latency.md", "Latency ratio vs FLOPs ratio with and without --round-to", body)


if __name__ == "__main__":
    main()
