"""The penalty interface the training loop calls, its context object, the registry and parameter checks."""
from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from slimcore.errors import ConfigError
from slimcore.registry import Registry


@dataclass
class PenaltyContext:
    """What the loop tells a penalty hook: where training stands and one example input."""

    step: int = 0
    epoch: int = 0
    total_steps: int = 0
    lr: float = 0.0
    sample_input: Tensor | None = None


def bn_layers(model: nn.Module) -> list[tuple[str, nn.BatchNorm2d]]:
    """Every BatchNorm2d of `model` with its qualified name, in module order."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)]


def check_lam(value: Any, name: str = "lam") -> float:
    """A finite penalty weight >= 0, or ConfigError."""
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be a number >= 0, got {value!r}.")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number >= 0, got {value!r}.") from None
    if not math.isfinite(v) or v < 0:
        raise ConfigError(f"{name} must be a finite number >= 0, got {value!r}.")
    return v


def check_open_range(value: Any, name: str, lo: float, hi: float = math.inf) -> float:
    """A finite number strictly between lo and hi, or ConfigError."""
    allowed = f"in ({lo:g}, {hi:g})" if math.isfinite(hi) else f"> {lo:g}"
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be a number {allowed}, got {value!r}.")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number {allowed}, got {value!r}.") from None
    if not (math.isfinite(v) and lo < v < hi):
        raise ConfigError(f"{name} must be a finite number {allowed}, got {value!r}.")
    return v


def check_positive_int(value: Any, name: str) -> int:
    """An integer >= 1, or ConfigError."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value != int(value) or value < 1:
        raise ConfigError(f"{name} must be an integer >= 1, got {value!r}.")
    return int(value)


class Penalty:
    """A sparsity penalty λ·R on BN γ: elementwise math plus hooks the training loop calls (no-ops here)."""

    name: ClassVar[str] = ""
    modes: ClassVar[tuple[str, ...]] = ("subgradient", "proximal")

    def __init__(self, lam: float = 1e-4, mode: str | None = None) -> None:
        self.lam = check_lam(lam)
        mode = self.modes[0] if mode is None else mode
        if mode not in self.modes:
            raise ConfigError(f"penalty {self.name!r}: mode must be one of {', '.join(self.modes)}; got {mode!r}.")
        self.mode = mode

    @classmethod
    def describe(cls) -> str:
        """The one-line description the CLI and the app show."""
        return (cls.__doc__ or "").strip().split("\n")[0]

    # -- elementwise math ---------------------------------------------------------------------
    def value(self, x: Tensor) -> Tensor:
        """Elementwise λ·R(x)."""
        return x * 0.0  # not zeros_like: stays differentiable, so value(x).sum() can join a loss

    def prox(self, x: Tensor, step: float) -> Tensor:
        """Elementwise argmin_y ½(y−x)² + step·λ·R(y)."""
        return x.clone()

    def grad(self, x: Tensor) -> Tensor:
        """Elementwise λ·∂R(x) (a subgradient where R has a kink)."""
        return torch.zeros_like(x)

    def params(self) -> dict[str, Any]:
        """JSON-able parameters, so that get(name, **params()) rebuilds this penalty."""
        return {"lam": self.lam, "mode": self.mode}

    # -- training-loop hooks ------------------------------------------------------------------
    def setup(self, model: nn.Module, ctx: PenaltyContext) -> None:
        """Once before the first step (and on resume before the checkpoint loads); deterministic given model."""

    def optimizer_groups(self, model: nn.Module, lr: float, momentum: float,
                         weight_decay: float) -> list[dict] | None:
        """Custom optimizer parameter groups, or None for one default group."""
        return None

    def after_backward(self, model: nn.Module, ctx: PenaltyContext) -> None:
        """Adds the penalty's gradient to the parameters' .grad (subgradient-style penalties)."""

    def after_step(self, model: nn.Module, ctx: PenaltyContext) -> None:
        """Applies a proximal map after the optimizer step (proximal-style penalties)."""

    def teardown(self, model: nn.Module) -> None:
        """End of training: undo anything setup did to the parameters."""

    def state_dict(self) -> dict[str, Any]:
        """What must survive a checkpoint and resume."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores what state_dict returned."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


PENALTIES: Registry[type[Penalty]] = Registry("penalty")


def get(name: str, lam: float = 1e-4, **params: Any) -> Penalty:
    """Build the registered penalty `name`; unknown names or parameters raise ConfigError saying what is allowed."""
    cls = PENALTIES.get(name)
    allowed = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ConfigError(f"penalty {name!r} has no parameter {', '.join(map(repr, unknown))}; "
                          f"allowed: {', '.join(allowed)}.")
    return cls(lam=lam, **params)
