"""Latency as a measured axis: every point of a stored trade-off curve built as the model commit would build and
timed on each backend, at batch 1 and a chosen batch; stored with the curve (a curve under per-layer rules is
another curve, with timings of its own). Between timed points an estimate interpolates along FLOPs, and its error
is measured by leaving each timed point out in turn."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from slimcore.errors import ConfigError, Stopped, StoreError
from slimcore.pruning.math.rules import LayerRules, limits_for
from slimcore.store.files import read_json, write_json
from slimcore.store.runs import RunStore

Progress = Callable[[int, int, str], None]
LATENCY_FORMAT = 1


@dataclass(frozen=True)
class LatencySettings:
    """What to time: the curve (ranking, points, min widths, per-layer rules), the backends, the second batch size,
    the repeats."""

    ranking: str = "bn"
    points: int = 50
    min_channels: int = 1
    backends: tuple[str, ...] = ("torch-cpu", "onnxruntime")
    batch: int = 32
    repeats: int = 20
    rules: LayerRules = field(default_factory=LayerRules)  # the curve's: timed as commit cuts under them

    def __post_init__(self) -> None:
        from slimcore.pruning.math.rankings import RANKINGS
        from slimcore.pruning.timing import check_backends

        RANKINGS.get(self.ranking)
        object.__setattr__(self, "backends", check_backends(self.backends))
        rules = LayerRules.from_dict(self.rules) if isinstance(self.rules, dict) else self.rules
        if not isinstance(rules, LayerRules):
            raise ConfigError(f"rules must be per-layer rules (locked, max_removed, min_width, round_to), got "
                              f"{self.rules!r}.")
        object.__setattr__(self, "rules", rules)
        for name, low in (("points", 1), ("min_channels", 1), ("batch", 1), ("repeats", 3)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{name} must be a whole number ≥ {low}, got {value!r}.")

    def to_dict(self) -> dict:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {**values, "backends": list(self.backends), "rules": self.rules.to_dict()}

    @classmethod
    def from_dict(cls, values: dict) -> "LatencySettings":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: (tuple(v) if k == "backends" else v) for k, v in values.items() if k in known})

    def batch_keys(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(("batch1", f"batch{self.batch}")))


def _rules_suffix(rules: LayerRules | None) -> str:
    """"" without rules, else "-r" and a digest of them (as the curve's artifact is named)."""
    if rules is None or rules.empty:
        return ""
    return "-r" + hashlib.sha1(json.dumps(rules.to_dict(), sort_keys=True).encode()).hexdigest()[:10]


def artifact_name(settings: LatencySettings) -> str:
    return f"latency-{settings.ranking}-{settings.points}-{settings.min_channels}{_rules_suffix(settings.rules)}"


def _key(store: RunStore, run_id: str, settings: LatencySettings) -> dict:
    from slimcore.pruning.curve import curve_key
    from slimcore.pruning.settings import CurveSettings

    curve = CurveSettings(ranking=settings.ranking, points=settings.points, min_channels=settings.min_channels,
                          rules=settings.rules)
    values = settings.to_dict()
    if settings.rules.empty:  # the key timings stored before rules existed have
        values.pop("rules")
    return {"format": LATENCY_FORMAT, "curve": curve_key(store, run_id, curve), **values}


def stored_latency(store: RunStore, run_id: str, settings: LatencySettings) -> dict | None:
    """The stored timings for these settings, if they were taken on the run's current curve."""
    art = store.artifact(run_id, artifact_name(settings))
    if art is None or json.dumps(art["meta"].get("key"), sort_keys=True) != json.dumps(
            _key(store, run_id, settings), sort_keys=True):
        return None
    return read_json(art["path"])


def any_stored_latency(store: RunStore, run_id: str, ranking: str, points: int | None, min_channels: int,
                       rules: LayerRules | None = None) -> dict | None:
    """The newest stored timings of this curve (of any point count when `points` is None) under these per-layer
    rules, whatever backends they used: what `preview` and the Prune page show and `prune --latency-ms` chooses
    from."""
    count = r"\d+" if points is None else str(int(points))
    wanted = re.compile(f"latency-{re.escape(ranking)}-{count}-{int(min_channels)}{re.escape(_rules_suffix(rules))}")
    for art in sorted(store.artifacts(run_id, kind="latency"), key=lambda a: a.get("created") or 0, reverse=True):
        if wanted.fullmatch(art["name"]):
            found = read_json(art["path"])
            if found is not None:
                return found
    return None


def time_curve(store: RunStore, run_id: str, settings: LatencySettings, progress: Progress | None = None,
               should_stop: Callable[[], bool] | None = None) -> dict:
    """Times the unpruned model and every point of the curve (computed first when it is missing)."""
    import platform

    import torch

    from slimcore.analysis.structure import pruned_model
    from slimcore.pruning.curve import get_curve
    from slimcore.pruning.math.plan import select
    from slimcore.pruning.scoring import ranking_scores
    from slimcore.pruning.timing import BACKENDS, measure_latency
    from slimcore.pruning.trained import load_trained

    stop = should_stop or (lambda: False)
    curve = get_curve(store, run_id, settings.ranking, settings.points, progress, min_channels=settings.min_channels,
                      should_stop=should_stop, rules=settings.rules)
    trained = load_trained(store, run_id)
    scores, _ = ranking_scores(store, trained, settings.ranking)
    structure = trained.structure
    limits = limits_for(settings.rules, structure.groups)  # each point cut as the curve (and commit) cut it
    started = time.perf_counter()
    targets = [None, *curve["points"]]
    out = []
    for i, point in enumerate(targets):
        if stop():
            raise Stopped(f"stopped after timing {i} of {len(targets)} models; nothing was stored.")
        plan = structure.empty_plan() if point is None else select(scores, point["threshold"], settings.min_channels, limits).plan
        model = pruned_model(trained.model, structure, plan, trained.compensation)
        timed = {"threshold": None if point is None else point["threshold"],
                 "flops_ratio": 1.0 if point is None else point["flops_ratio"], "latency_ms": {}, "spread_ms": {}}
        for backend in settings.backends:
            runner = BACKENDS.get(backend)()  # one per model: an ONNX export serves every batch size
            for key in settings.batch_keys():
                run = runner.prepare(model, trained.input_shape, int(key[len("batch"):]))
                t = measure_latency(run, settings.repeats)
                timed["latency_ms"].setdefault(backend, {})[key] = round(t.median_ms, 5)
                timed["spread_ms"].setdefault(backend, {})[key] = round(t.spread_ms, 5)
        out.append(timed)
        if progress:
            what = "the unpruned model" if point is None else f"{point['flops_ratio']:.1%} FLOPs"
            progress(i + 1, len(targets), f"timed {what}")
    result = {"run_id": run_id, **settings.to_dict(), "threads": torch.get_num_threads(),
              "machine": platform.processor() or platform.machine(), "statistic": "median, spread = IQR",
              "base": out[0], "points": out[1:], "seconds": round(time.perf_counter() - started, 2)}
    result["estimate_error"] = {b: {k: estimate_error(result, b, k) for k in settings.batch_keys()}
                                for b in settings.backends}
    name = artifact_name(settings)
    path = write_json(store.run_dir(run_id) / f"{name}.json", result)
    store.put_artifact(run_id, name, "latency", str(path), {"key": _key(store, run_id, settings)})
    return result


def with_latency(curve: dict, timings: dict | None) -> dict:
    """The curve with `latency_ms` (and its `spread_ms`) on every point that was timed, by threshold."""
    if not timings:
        return curve
    by_threshold = {p["threshold"]: p for p in timings["points"]}
    points = [{**p, **({"latency_ms": by_threshold[p["threshold"]]["latency_ms"],
                        "spread_ms": by_threshold[p["threshold"]]["spread_ms"]}
                       if p["threshold"] in by_threshold else {})} for p in curve["points"]]
    base = {**curve["base"], "latency_ms": timings["base"]["latency_ms"], "spread_ms": timings["base"]["spread_ms"]}
    return {**curve, "base": base, "points": points, "latency_backends": timings["backends"]}


def _series(timings: dict, backend: str, key: str) -> tuple[np.ndarray, np.ndarray]:
    rows = [timings["base"], *timings["points"]]
    pairs = sorted({(r["flops_ratio"], r["latency_ms"][backend][key]) for r in rows if backend in r["latency_ms"]})
    if not pairs:
        raise ConfigError(f"no timings on backend {backend!r}; time the curve with it first (slimcore latency).")
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def estimate_latency(timings: dict, flops_ratio: float, backend: str, key: str = "batch1") -> float:
    """Milliseconds at a FLOPs share between timed points: linear between the two neighbours along FLOPs."""
    x, y = _series(timings, backend, key)
    return float(np.interp(flops_ratio, x, y))


def estimate_error(timings: dict, backend: str, key: str = "batch1") -> dict:
    """How far the estimate is from a measurement: each interior timed point left out and estimated from the
    others, as relative errors (median and largest)."""
    x, y = _series(timings, backend, key)
    errors = [abs(float(np.interp(x[i], np.delete(x, i), np.delete(y, i))) - y[i]) / y[i]
              for i in range(1, len(x) - 1) if y[i] > 0]
    if not errors:
        return {"points": 0, "median_rel": None, "max_rel": None}
    return {"points": len(errors), "median_rel": round(float(np.median(errors)), 4), "max_rel": round(max(errors), 4)}


def point_for_latency(timings: dict, target_ms: float, backend: str, key: str = "batch1") -> dict:
    """The timed point with the most FLOPs whose measured latency is at most `target_ms` (the unpruned model if it
    already is); StoreError when even the smallest timed model is slower."""
    if not (target_ms > 0):
        raise ConfigError(f"--latency-ms must be a positive number of milliseconds, got {target_ms!r}.")
    rows = [r for r in [timings["base"], *timings["points"]] if backend in r["latency_ms"]]
    if not rows:
        raise ConfigError(f"no timings on backend {backend!r}; time the curve with it first (slimcore latency).")
    fast = [r for r in rows if r["latency_ms"][backend][key] <= target_ms]
    if not fast:
        best = min(r["latency_ms"][backend][key] for r in rows)
        raise StoreError(f"no timed model runs in {target_ms:g} ms on {backend} ({key}); the fastest takes "
                         f"{best:.3g} ms. Raise --latency-ms, or lower --min-channels.")
    return max(fast, key=lambda r: (r["flops_ratio"], -(r["threshold"] or 0.0)))


def current_latency(store: RunStore, run_id: str, ranking: str, points: int, min_channels: int,
                    rules: LayerRules | None = None) -> dict | None:
    """The newest timings taken on the run's current curve of these settings (whatever backends, batch and repeats
    they used), or None: what the Prune page draws its latency axis from."""
    from slimcore.pruning.curve import curve_key
    from slimcore.pruning.settings import CurveSettings

    rules = rules or LayerRules()
    name = f"latency-{ranking}-{int(points)}-{int(min_channels)}{_rules_suffix(rules)}"
    art = store.artifact(run_id, name)
    now = curve_key(store, run_id, CurveSettings(ranking=ranking, points=points, min_channels=min_channels, rules=rules))
    if art is None or json.dumps((art["meta"].get("key") or {}).get("curve"), sort_keys=True) != json.dumps(
            now, sort_keys=True):
        return None
    return read_json(art["path"])


def latency_series(timings: dict, backend: str, key: str = "batch1") -> list[list[float]]:
    """[[FLOPs share, ms], ...] ascending in FLOPs: the nodes `estimate_latency` interpolates between."""
    x, y = _series(timings, backend, key)
    return [[float(a), float(b)] for a, b in zip(x, y)]


def estimate_latencies(timings: dict, flops_ratios, backend: str, key: str = "batch1") -> np.ndarray:
    """`estimate_latency` at many FLOPs shares at once."""
    x, y = _series(timings, backend, key)
    return np.interp(np.asarray(flops_ratios, dtype=np.float64), x, y)


def position_at_or_below(latencies, target_ms: float) -> tuple[int, bool]:
    """(the position whose latency is the largest at or below `target_ms`, the larger model on a tie; True), or
    (the fastest position, False) when none is that fast."""
    ms = np.asarray(latencies, dtype=np.float64)
    fast = np.flatnonzero(ms <= float(target_ms))
    if not fast.size:
        return int(np.argmin(ms)), False
    return int(fast[np.argmax(ms[fast])]), True
