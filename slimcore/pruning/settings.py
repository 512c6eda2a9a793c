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
from slimcore.pruning.math.rules import LayerRules

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


def _check_rules(value: Any) -> LayerRules:
    """Per-layer rules from their JSON object (as a job's stored settings hold them) or as given."""
    rules = LayerRules.from_dict(value) if isinstance(value, dict) else value
    if not isinstance(rules, LayerRules):
        raise ConfigError(f"rules must be per-layer rules (locked, max_removed, min_width, round_to), got {value!r}.")
    return rules


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
            out[f.name] = value.to_dict() if isinstance(value, (_Settings, LayerRules)) else _encode(value)
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
    rules: LayerRules = field(default_factory=LayerRules)  # locked groups, caps, minimum widths, --round-to
    recompute: bool = False  # evaluate again even when a curve for these settings is stored

    def __post_init__(self) -> None:
        _check_ranking(self.ranking)
        _integer(self.points, "points", 1, MAX_POINTS)
        object.__setattr__(self, "min_channels", check_min_channels(self.min_channels))
        object.__setattr__(self, "rules", _check_rules(self.rules))
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
    batch size); `epochs = 0` skips it. With `distill`, the unpruned model teaches the cut one (Hinton et al.
    2015); with `keep_penalty`, an iterative prune's fine-tunes between its cuts keep the run's sparsity penalty
    (network slimming's multi-pass scheme, Liu et al. 2017, §3)."""

    epochs: int = 0
    lr: float = 0.01
    schedule: str = "cosine"
    device: str = "auto"
    distill: bool = False
    # T: on MNIST Hinton et al. (§3) found T ≥ 8 alike for a wide student, 2.5–4 best for a much narrower one.
    distill_temperature: float = 4.0
    # W, the soft targets' share: Hinton et al. (§2) found the best results with "a considerably lower weight" on
    # the hard-label term, hence 0.9 on the teacher's soft targets and 0.1 on the labels.
    distill_weight: float = 0.9
    keep_penalty: bool = False

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
        for name in ("distill", "keep_penalty"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false, got {getattr(self, name)!r}.")
        object.__setattr__(self, "distill_temperature",
                           _positive(self.distill_temperature, "the distillation temperature (--distill-temperature)"))
        w = self.distill_weight
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 <= w <= 1:
            raise ConfigError(f"the distillation weight (--distill-weight) must be a number in [0, 1], the soft "
                              f"targets' share of the loss, got {w!r}.")
        object.__setattr__(self, "distill_weight", float(w))
        if self.epochs == 0 and (self.distill or self.keep_penalty):
            flag = "--distill" if self.distill else "--keep-penalty"
            raise ConfigError(f"{flag} changes how the pruned model is fine-tuned, but there is no fine-tuning: "
                              "give --finetune-epochs N (N >= 1).")


def _check_steps(settings: "PruneSettings") -> None:
    """What an iterative prune (--steps K > 1) needs: a FLOPs target, fine-tuning between the cuts, a ranking that
    can be read off a cut model."""
    from slimcore.pruning.math.rankings import RANKINGS

    steps = _integer(settings.steps, "steps (--steps)", 1, 100)
    if settings.finetune.keep_penalty and steps == 1:
        raise ConfigError("--keep-penalty keeps the sparsity penalty on between the cuts of an iterative prune: give "
                          "--steps K (K >= 2), or leave it out.")
    if steps == 1:
        return
    if settings.threshold is not None:
        raise ConfigError("--steps K prunes toward a FLOPs target: give --flops-ratio R instead of --threshold (a "
                          "threshold on |γ| means another cut on every fine-tuned model).")
    if settings.finetune.epochs == 0:
        raise ConfigError("--steps K re-ranks the channels on the model fine-tuned after each cut: give "
                          "--finetune-epochs N (N >= 1 epochs after each cut).")
    if RANKINGS.get(settings.ranking).reads_penalty:
        raise ConfigError(f"the {settings.ranking} ranking removes what the penalty chose during training, in one "
                          "cut; --steps K re-ranks a cut model, which that choice does not describe: use --steps 1 "
                          "or another ranking.")


@dataclass(frozen=True)
class PruneSettings(_Settings):
    """A commit: cut at a threshold or a FLOPs share (exactly one), fine-tune, measure, export."""

    ranking: str = "bn"
    threshold: float | None = None
    flops_ratio: float | None = None
    min_channels: int = 1
    rules: LayerRules = field(default_factory=LayerRules)  # locked groups, caps, minimum widths, --round-to
    finetune: FineTuneSettings = field(default_factory=FineTuneSettings)
    out_dir: str | None = None  # default: the prune run's own folder
    latency_repeats: int = 20
    # Iterative pruning: cut to the FLOPs target in `steps` cuts, each re-ranking the fine-tuned model of the one
    # before (`slimcore.pruning.iterative`); 1 is a one-shot commit.
    steps: int = 1

    def __post_init__(self) -> None:
        _check_ranking(self.ranking)
        threshold, flops_ratio = check_target(self.threshold, self.flops_ratio)
        object.__setattr__(self, "threshold", threshold)
        object.__setattr__(self, "flops_ratio", flops_ratio)
        object.__setattr__(self, "min_channels", check_min_channels(self.min_channels))
        object.__setattr__(self, "rules", _check_rules(self.rules))
        if isinstance(self.finetune, dict):
            object.__setattr__(self, "finetune", FineTuneSettings.from_dict(self.finetune))
        if not isinstance(self.finetune, FineTuneSettings):
            raise ConfigError("finetune must be fine-tuning settings (epochs, lr, schedule, device).")
        if self.out_dir is not None and (not isinstance(self.out_dir, str) or not self.out_dir.strip()):
            raise ConfigError("the output folder (--out) is empty; give a folder, or leave it out to write into the "
                              "prune run's own folder.")
        _integer(self.latency_repeats, "latency repeats", 1, 10_000)
        _check_steps(self)


SENSITIVITY_SHARES = tuple(round(0.1 * i, 1) for i in range(1, 10))  # 10 % … 90 % of a group removed


@dataclass(frozen=True)
class SensitivitySettings(_Settings):
    """The per-group sensitivity scan: each group alone pruned to each share removed, by the ranking."""

    ranking: str = "bn"
    shares: tuple[float, ...] = SENSITIVITY_SHARES
    recompute: bool = False  # scan again even when a scan for these settings is stored

    def __post_init__(self) -> None:
        _check_ranking(self.ranking)
        shares = self.shares
        if not isinstance(shares, (list, tuple)) or not shares or len(shares) > 99 or any(
                isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < 1 for v in shares):
            raise ConfigError(f"shares must be 1 to 99 numbers in (0, 1), the shares of a group's channels to remove "
                              f"(e.g. 0.1,0.2,0.5), got {shares!r}.")
        object.__setattr__(self, "shares", tuple(sorted({float(v) for v in shares})))
        if not isinstance(self.recompute, bool):
            raise ConfigError("recompute must be true or false.")
