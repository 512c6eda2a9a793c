"""Timing a model on a backend: PyTorch eager on the CPU, ONNX Runtime on the CPU, PyTorch on CUDA when there is
a GPU. A measurement is the median of repeated forward passes after warm-up, with its spread (the interquartile
range), so a latency target can be met "within the measurement's own spread"."""
from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from slimcore.errors import ConfigError
from slimcore.registry import Registry

Run = Callable[[], None]


@dataclass(frozen=True)
class Timing:
    median_ms: float
    spread_ms: float  # interquartile range of the repeats
    repeats: int

    def to_dict(self) -> dict:
        return {"median_ms": round(self.median_ms, 5), "spread_ms": round(self.spread_ms, 5), "repeats": self.repeats}


class Backend:
    """Where a model runs: `unavailable()` says why it cannot here (None when it can); `prepare` returns a
    callable that runs one forward pass of a fixed input."""

    name = ""

    def unavailable(self) -> str | None:
        return None

    def prepare(self, model: nn.Module, input_shape: tuple[int, int, int], batch: int) -> Run:
        raise NotImplementedError


BACKENDS: Registry[type[Backend]] = Registry("latency backend")


@BACKENDS.register("torch-cpu", help="PyTorch eager on the CPU (inference mode)")
class TorchCpu(Backend):
    name = "torch-cpu"
    device = "cpu"

    def prepare(self, model, input_shape, batch):
        model = model.eval().to(self.device)
        x = torch.randn(batch, *input_shape, device=self.device)

        @torch.inference_mode()
        def run() -> None:
            model(x)
            if self.device != "cpu":
                torch.cuda.synchronize()

        return run


@BACKENDS.register("torch-cuda", help="PyTorch eager on the first CUDA GPU (synchronised)")
class TorchCuda(TorchCpu):
    name = "torch-cuda"
    device = "cuda"

    def unavailable(self):
        return None if torch.cuda.is_available() else "there is no CUDA GPU on this machine"


@BACKENDS.register("onnxruntime", help="ONNX Runtime's CPU execution provider on the exported model.onnx")
class OnnxRuntimeCpu(Backend):
    name = "onnxruntime"

    def unavailable(self):
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            return "onnxruntime is not installed (pip install onnxruntime)"
        return None

    def __init__(self) -> None:
        self._sessions: dict[int, object] = {}  # one export per model, whatever batches it is timed at

    def _session(self, model, input_shape):
        import onnxruntime as ort

        from slimcore.pruning.export import export_onnx

        if id(model) not in self._sessions:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "model.onnx"
                export_onnx(model, input_shape, path)  # the exporter commit uses: the file a user ships
                options = ort.SessionOptions()
                options.log_severity_level = 3
                self._sessions[id(model)] = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        return self._sessions[id(model)]

    def prepare(self, model, input_shape, batch):
        import numpy as np

        session = self._session(model, input_shape)
        name = session.get_inputs()[0].name
        x = np.random.default_rng(0).standard_normal((batch, *input_shape)).astype(np.float32)
        return lambda: session.run(None, {name: x})


def check_backends(names) -> tuple[str, ...]:
    """The backends, validated: unknown or unavailable ones are a ConfigError naming why."""
    names = tuple(names)
    if not names:
        raise ConfigError(f"name at least one backend: {', '.join(BACKENDS.names())}.")
    for name in names:
        reason = BACKENDS.get(name)().unavailable()
        if reason:
            raise ConfigError(f"latency backend {name!r} cannot run here: {reason}.")
    return names


def measure_latency(run: Run, repeats: int = 20, warmup: int = 3, budget_s: float = 10.0) -> Timing:
    """Median and interquartile range of `repeats` timed calls after `warmup` untimed ones (at least 5 when the
    time budget runs out first)."""
    for _ in range(warmup):
        run()
    times = []
    started = time.perf_counter()
    for i in range(repeats):
        t0 = time.perf_counter()
        run()
        times.append(1000.0 * (time.perf_counter() - t0))
        if i >= 4 and time.perf_counter() - started > budget_s:
            break
    q = statistics.quantiles(times, n=4) if len(times) >= 2 else [times[0]] * 3
    return Timing(statistics.median(times), q[2] - q[0], len(times))
