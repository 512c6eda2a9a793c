"""The penalty interface the training loop calls, its context object and the registry."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from slimcore.errors import ConfigError
from slimcore.penalties.params import Param
from slimcore.registry import Registry

# λ is every penalty's weight; its default is the class's `default_lam`.
LAM = Param("lam", float, None, "penalty weight λ", low=0)


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


class Penalty:
    """A sparsity penalty λ·R on BN γ: elementwise math plus hooks the training loop calls (no-ops here).

    A subclass declares its parameters in `parameters` (their type, default, range and help) and its `default_lam`;
    the constructor, params(), the CLI flags and the app's inputs are generated from them.
    """

    name: ClassVar[str] = ""
    parameters: ClassVar[tuple[Param, ...]] = ()
    default_lam: ClassVar[float] = 0.0

    def __init__(self, lam: float | None = None, **values: Any) -> None:
        declared = [p.name for p in self.parameters]
        unknown = sorted(set(values) - set(declared))
        if unknown:
            raise ConfigError(f"penalty {self.name!r} has no parameter {', '.join(map(repr, unknown))}; "
                              f"allowed: {', '.join(['lam', *declared])}.")
        self.lam = LAM.validate(self.default_lam if lam is None else lam, self.name)
        for p in self.parameters:
            setattr(self, p.name, p.validate(values.get(p.name, p.default), self.name))
        self.check_parameters()

    def check_parameters(self) -> None:
        """Checks between parameters, after each was validated alone (raise ConfigError)."""

    @classmethod
    def parameter(cls, name: str) -> Param | None:
        """The declared parameter `name`, or None."""
        return next((p for p in cls.parameters if p.name == name), None)

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
        """λ and every declared parameter, JSON-able, so that get(name, **params()) rebuilds this penalty."""
        return {"lam": self.lam, **{p.name: getattr(self, p.name) for p in self.parameters}}

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


PENALTIES: Registry[type[Penalty]] = Registry("penalty", plural="penalties")


def get(name: str, lam: float | None = None, **params: Any) -> Penalty:
    """Build the registered penalty `name` (λ None: its default_lam); unknown names or parameters raise
    ConfigError saying what is allowed."""
    return PENALTIES.get(name)(lam=lam, **params)


def parameter_rows() -> list[dict[str, Any]]:
    """One row per parameter of every registered penalty, λ first: the table the Learn page shows."""
    rows = []
    for name in PENALTIES.names():
        cls = PENALTIES.get(name)
        lam = Param("lam", float, cls.default_lam, LAM.help, low=0)
        for p in (lam, *cls.parameters):
            rows.append({"penalty": name, "parameter": p.name, "default": p.default_text(), "allowed": p.allowed(),
                         "help": p.help})
    return rows
