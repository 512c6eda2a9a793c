"""Settings of the pruning jobs (curve, LeGR search, prune with fine-tuning) as frozen dataclasses.

Like `TrainConfig`, each is validated when built (one ConfigError per bad value, saying what is allowed) and
saved as JSON with its job, so any job can be reproduced: `Settings.from_dict(run["config"])`.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from slimcore.errors import ConfigError
from slimcore.pruning.math.plan import check_flops_ratio, check_min_channels, check_target

MAX_POINTS = 1000


def _integer(value: Any, name: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        allowed = f"in {low}..{high}" if high is not None else f">= {low}"
        raise ConfigError(f"{name} must be an integer {allowed}, got {value!r}.")
    return int(value)


def _positive(value: Any, name: str, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and 0 < value <= high):
        allowed = f"in (0, {high:g}]" if math.isfinite(high) else "> 0"
        raise ConfigError(f"{name} must be a number {allowed}, got {value!r}.")
    return float(value)


def _check_ranking(name: Any) -> str:
    from slimcore.pruning.math.rankings import RANKINGS

    RANKINGS.get(name)
    return name


def _encode(value: Any) -> Any:
    """JSON has no infinity: ±inf travel as the text "inf" / "-inf"."""
    if isinstance(value, float) and math.isinf(value):
        return str(value)
    return value


def _decode(value: Any, field_type: Any) -> Any:
    """A number field's "inf" / "-inf" back to ±inf; text fields keep their text."""
    numeric = "float" in str(field_type)
    return float(value) if numeric and value in ("inf", "-inf") else value


class _Settings:
    """to_dict / from_dict / replace shared by the settings classes below."""

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.to_dict() if isinstance(value, _Settings) else _encode(value)
        return out

    @classmethod
    def from_dict(cls, values: Any):
        if not isinstance(values, dict):
            raise ConfigError(f"{cls.__name__} must be built from a JSON object of settings.")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown setting(s) {', '.join(unknown)}; valid: {', '.join(sorted(known))}.")
        types = {f.name: f.type for f in dataclasses.fields(cls)}
        return cls(**{k: _decode(v, types[k]) for k, v in values.items()})

    def replace(self, **changes: Any):
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class CurveSettings(_Settings):
    """The accuracy/FLOPs trade-off curve of a run: `points` thresholds evenly spaced along the FLOPs axis."""

    ranking: str = "bn"
    points: int = 50
    min_channels: int = 1
    recompute: bool = False  # evaluate again even when a curve for these settings is stored

    def __post_init__(self) -> None:
        _check_ranking(self.ranking)
        _integer(self.points, "points", 1, MAX_POINTS)
        object.__setattr__(self, "min_channels", check_min_channels(self.min_channels))
        if not isinstance(self.recompute, bool):
            raise ConfigError("recompute must be true or false.")


@dataclass(frozen=True)
class LegrSettings(_Settings):
    """LeGR's search (Chin et al. 2020), as its code runs it: candidates scored on a held-out tenth of the training
    images, mutations of a tenth of the layers with noise of each layer's spread, σ = 1. Sized down so the search
    on the default run takes about a minute on a 2-core CPU (48 candidates of ~1 s); the paper's code uses
    population 64, sample 16, ~400 generations and τ = 200 fine-tuning steps on CIFAR-100 (τ = 0 for CIFAR-10)."""

    flops_ratio: float = 0.5  # the FLOPs share the fitness prunes to (the smallest target of interest)
    population: int = 12
    sample: int = 4
    generations: int = 36
    steps: int = 40  # τ: fine-tuning steps per candidate
    lr: float = 0.01
    batch_size: int = 64
    sigma: float = 1.0  # α ← α·exp(N(0, σ)) (annealed), κ ← κ + N(0, std of the layer's |γ|), as LeGR's code
    mutate_share: float = 0.1  # share of the layers each mutation changes (LeGR's MUTATE_PERCENT)
    seed: int = 0
    min_channels: int = 1
    # Share of the training images held out to score candidates on (never trained on during the search), so
    # that the val split, on which the curve then reports LeGR's accuracy, is not the one LeGR was tuned on.
    held_out: float = 0.1

    def __post_init__(self) -> None:
        object.__setattr__(self, "flops_ratio", check_flops_ratio(self.flops_ratio))
        if not (isinstance(self.mutate_share, (int, float)) and 0 < float(self.mutate_share) <= 1):
            raise ConfigError(f"LeGR mutate_share must be a share in (0, 1] of the layers, got {self.mutate_share!r}.")
        if not (isinstance(self.held_out, (int, float)) and 0 < float(self.held_out) < 1):
            raise ConfigError(f"LeGR held_out must be a share in (0, 1) of the training images, got "
                              f"{self.held_out!r}.")
        object.__setattr__(self, "min_channels", check_min_channels(self.min_channels))
        for name in ("population", "sample", "batch_size"):
            _integer(getattr(self, name), f"LeGR {name}", 1)
        for name in ("generations", "steps", "seed"):
            _integer(getattr(self, name), f"LeGR {name}", 0)
        if self.sample > self.population:
            raise ConfigError(f"LeGR sample ({self.sample}) cannot exceed the population ({self.population}).")
        for name in ("lr", "sigma"):
            object.__setattr__(self, name, _positive(getattr(self, name), f"LeGR {name}"))

    @property
    def candidates(self) -> int:
        """How many candidates the search evaluates: the first population, then one per generation."""
        return self.population + self.generations


@dataclass(frozen=True)
class FineTuneSettings(_Settings):
    """Fine-tuning after the cut, with the training loop (SGD, the parent run's momentum, weight decay and
    batch size); `epochs = 0` skips it."""

    epochs: int = 0
    lr: float = 0.01
    schedule: str = "cosine"
    device: str = "auto"

    def __post_init__(self) -> None:
        from slimcore.config import SCHEDULES
        from slimcore.devices import check_device_spec

        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or not 0 <= self.epochs <= 10_000:
            raise ConfigError(f"fine-tuning epochs must be an integer in 0..10000, got {self.epochs!r}.")
        lr = self.lr
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not (math.isfinite(lr) and 0 < lr <= 10):
            raise ConfigError(f"fine-tuning learning rate must be a number in (0, 10], got {lr!r}.")
        object.__setattr__(self, "lr", float(lr))
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"unknown fine-tuning schedule {self.schedule!r}; valid: {', '.join(SCHEDULES)}.")
        check_device_spec(self.device)


@dataclass(frozen=True)
class PruneSettings(_Settings):
    """A commit: cut at a threshold or a FLOPs share (exactly one), fine-tune, measure, export."""

    ranking: str = "bn"
    threshold: float | None = None
    flops_ratio: float | None = None
    min_channels: int = 1
    finetune: FineTuneSettings = field(default_factory=FineTuneSettings)
    out_dir: str | None = None  # default: the prune run's own folder
    latency_repeats: int = 20

    def __post_init__(self) -> None:
        _check_ranking(self.ranking)
        threshold, flops_ratio = check_target(self.threshold, self.flops_ratio)
        object.__setattr__(self, "threshold", threshold)
        object.__setattr__(self, "flops_ratio", flops_ratio)
        object.__setattr__(self, "min_channels", check_min_channels(self.min_channels))
        if isinstance(self.finetune, dict):
            object.__setattr__(self, "finetune", FineTuneSettings.from_dict(self.finetune))
        if not isinstance(self.finetune, FineTuneSettings):
            raise ConfigError("finetune must be fine-tuning settings (epochs, lr, schedule, device).")
        if self.out_dir is not None and (not isinstance(self.out_dir, str) or not self.out_dir.strip()):
            raise ConfigError("the output folder (--out) is empty; give a folder, or leave it out to write into the "
                              "prune run's own folder.")
        _integer(self.latency_repeats, "latency repeats", 1, 10_000)
