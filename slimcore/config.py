"""TrainConfig: every setting of a training run, validated when built and saved as JSON with the run."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from slimcore.errors import ConfigError

SCHEDULES = ("cosine", "step", "constant")

# The demo default: Tℓ1 with proximal steps (its class defaults: a = 1, λ = 0.1) gives exact zeros a user can
# watch appear (see README "Defaults" for the measured figures behind these values).
DEFAULT_PENALTY = "tl1"


@dataclass(frozen=True)
class TrainConfig:
    """One training run; invalid values raise ConfigError naming the field and what is allowed.

    `lam` None and parameters left out of `penalty_params` take the penalty's declared defaults; once built,
    `lam` and `penalty_params` hold the values the penalty uses (every parameter), so a stored run records them.
    """

    model: str = "slimnet"
    dataset: str = "mnist5k"
    data_root: str | None = None
    penalty: str = DEFAULT_PENALTY
    lam: float | None = None
    penalty_params: dict = field(default_factory=dict)
    epochs: int = 4
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 1e-4
    batch_size: int = 64
    schedule: str = "cosine"
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    channels_last: bool = True
    compile: bool = False
    snapshot_every: int = 10
    checkpoint_every: int = 0
    num_workers: int = 0
    label: str = ""
    init_from: str | None = None  # start from this weights file (a state_dict or a checkpoint)
    pretrained: bool = False  # start from torchvision's published weights (tv_* models)

    def __post_init__(self) -> None:
        _validate(self)
        from slimcore.models.external import canonical, is_spec

        if is_spec(self.model):
            object.__setattr__(self, "model", canonical(self.model))
        if self.init_from:
            from pathlib import Path

            object.__setattr__(self, "init_from", str(Path(self.init_from).expanduser().resolve()))
        penalty = self.build_penalty()  # validates the penalty's parameters, fills in its defaults
        resolved = {k: v for k, v in penalty.params().items() if k != "lam" and v is not None}
        object.__setattr__(self, "lam", penalty.lam)
        object.__setattr__(self, "penalty_params", resolved)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        """Builds a config from JSON-like values (a stored run's config); unknown keys are an error, not silently
        dropped."""
        if not isinstance(values, dict):
            raise ConfigError("a run config must be a JSON object of settings.")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown setting(s) {', '.join(unknown)}; valid: {', '.join(sorted(known))}.")
        return cls(**_stored_before_declared_parameters(values))

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def build_penalty(self):
        """The configured penalty object (fresh state)."""
        from slimcore.penalties import get

        return get(self.penalty, lam=self.lam, **self.penalty_params)


def _number(name: str, value: Any, *, low: float | None = None, high: float | None = None,
            integer: bool = False, low_open: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name} must be a number, got {value!r}.")
    if integer and (not float(value).is_integer()):
        raise ConfigError(f"{name} must be a whole number, got {value!r}.")
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}.")
    if low is not None and (value <= low if low_open else value < low):
        raise ConfigError(f"{name} must be {'>' if low_open else '>='} {low:g}, got {value!r}.")
    if high is not None and value > high:
        raise ConfigError(f"{name} must be <= {high:g}, got {value!r}.")


def _validate(cfg: TrainConfig) -> None:
    from slimcore.data import DATASETS
    from slimcore.devices import check_device_spec
    from slimcore.models import MODELS
    from slimcore.models.external import check_spec_form, is_spec

    for name in ("model", "dataset", "penalty", "schedule", "device"):
        value = getattr(cfg, name)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{name} must be a non-empty name, got {value!r}.")
    # A `module:function` model is imported when the run starts (jobs.check_startable), not each time a stored
    # config is read: a run whose module is gone stays listable and prunable from its checkpoint's records.
    check_spec_form(cfg.model) if is_spec(cfg.model) else MODELS.get(cfg.model)
    DATASETS.get(cfg.dataset)
    if cfg.schedule not in SCHEDULES:
        raise ConfigError(f"unknown schedule {cfg.schedule!r}; valid: {', '.join(SCHEDULES)}.")
    check_device_spec(cfg.device)
    if cfg.data_root is not None and (not isinstance(cfg.data_root, str) or not cfg.data_root.strip()):
        raise ConfigError("data_root must be a folder path or left unset.")
    if cfg.lam is not None:
        _number("lam", cfg.lam, low=0)
    if cfg.init_from is not None and (not isinstance(cfg.init_from, str) or not cfg.init_from.strip()):
        raise ConfigError("init_from must be the path of a weights file or left unset.")
    if not isinstance(cfg.pretrained, bool):
        raise ConfigError("pretrained must be true or false.")
    if cfg.init_from and cfg.pretrained:
        raise ConfigError("give --init-from FILE or --pretrained, not both: each names the starting weights.")
    # 0 epochs records given weights without training them (`slimcore import`)
    _number("epochs", cfg.epochs, low=0 if (cfg.init_from or cfg.pretrained) else 1, high=100_000, integer=True)
    _number("lr", cfg.lr, low=0, low_open=True, high=10)
    _number("momentum", cfg.momentum, low=0, high=0.999)
    _number("weight_decay", cfg.weight_decay, low=0, high=1)
    _number("batch_size", cfg.batch_size, low=1, high=65_536, integer=True)
    _number("seed", cfg.seed, low=0, high=2**31 - 1, integer=True)
    _number("snapshot_every", cfg.snapshot_every, low=1, high=1_000_000, integer=True)
    _number("checkpoint_every", cfg.checkpoint_every, low=0, high=100_000_000, integer=True)
    _number("num_workers", cfg.num_workers, low=0, high=64, integer=True)
    for flag in ("amp", "channels_last", "compile"):
        if not isinstance(getattr(cfg, flag), bool):
            raise ConfigError(f"{flag} must be true or false.")
    if not isinstance(cfg.penalty_params, dict):
        raise ConfigError("penalty_params must be a mapping of parameter names to values.")
    if "lam" in cfg.penalty_params:
        raise ConfigError("give λ as the `lam` setting (--lam), not inside penalty_params.")
    if not isinstance(cfg.label, str) or len(cfg.label) > 80:
        raise ConfigError("label must be text of at most 80 characters.")


def _stored_before_declared_parameters(values: dict[str, Any]) -> dict[str, Any]:
    """A run config stored before penalties declared their parameters, as it trained then. Such a config holds
    only the parameters that were given: a missing `mode` meant each penalty's first mode (subgradient; l1, lp and
    tl1 default to proximal now), and `none` carried a `mode` it ignored. Configs built since hold every parameter,
    so this changes none of them."""
    params = values.get("penalty_params")
    penalty = values.get("penalty")
    if not isinstance(params, dict):
        return values
    if penalty == "none" and "mode" in params:
        params = {k: v for k, v in params.items() if k != "mode"}
    elif penalty in ("l1", "lp", "tl1") and "mode" not in params:
        params = {**params, "mode": "subgradient"}
    return {**values, "penalty_params": params}
