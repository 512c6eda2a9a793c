"""A penalty's parameters as data: name, type, default, range and help, from which the CLI, the app and the checks
are generated (one declaration per parameter, in its penalty's class)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from slimcore.errors import ConfigError


@dataclass(frozen=True)
class Param:
    """One parameter of a penalty. `low`/`high` bound a number (open ends excluded); `choices` lists a text's
    allowed values; `optional` admits None; `in_formula` marks a parameter that changes R(x) and its prox (the
    Learn page offers it); `suggestions` are values for a select-slider."""

    name: str
    kind: type  # float, int or str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    optional: bool = False
    in_formula: bool = False
    suggestions: tuple = ()

    def __post_init__(self) -> None:
        if self.kind not in (float, int, str):
            raise TypeError(f"Param {self.name!r}: kind must be float, int or str, not {self.kind!r}")

    def allowed(self) -> str:
        """The allowed values in words: 'a number in (0, 1)', 'an integer >= 1', 'one of subgradient, proximal'."""
        if self.kind is str:
            text = f"one of {', '.join(self.choices)}" if self.choices else "text"
        else:
            text = ("an integer" if self.kind is int else "a number") + self._range()
        return text + (" or none" if self.optional else "")

    def _range(self) -> str:
        lo, hi = self.low, self.high
        if lo is not None and hi is not None:
            return f" in {'(' if self.low_open else '['}{lo:g}, {hi:g}{')' if self.high_open else ']'}"
        if lo is not None:
            return f" {'>' if self.low_open else '>='} {lo:g}"
        if hi is not None:
            return f" {'<' if self.high_open else '<='} {hi:g}"
        return ""

    def _refuse(self, value: Any, penalty: str) -> ConfigError:
        return ConfigError(f"penalty {penalty!r}: {self.name} must be {self.allowed()}, got {value!r}.")

    def validate(self, value: Any, penalty: str) -> Any:
        """`value` as this parameter's type, or a one-line ConfigError naming penalty, parameter and range."""
        if value is None and self.optional:
            return None
        if self.kind is str:
            if not isinstance(value, str) or (self.choices and value not in self.choices):
                raise self._refuse(value, penalty)
            return value
        number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not number or (self.kind is int and not float(value).is_integer()) or not self._in_range(value):
            raise self._refuse(value, penalty)
        return self.kind(value)

    def _in_range(self, v: float) -> bool:
        if self.low is not None and (v <= self.low if self.low_open else v < self.low):
            return False
        return self.high is None or (v < self.high if self.high_open else v <= self.high)

    def parse(self, text: str, penalty: str) -> Any:
        """A value from command-line text, validated ('none' is None for an optional parameter)."""
        if self.optional and text.strip().lower() == "none":
            return None
        if self.kind is str:
            return self.validate(text, penalty)
        try:
            return self.validate(float(text) if self.kind is float else _parse_int(text), penalty)
        except (ValueError, ConfigError):
            raise self._refuse(text, penalty) from None  # the message shows what the user typed

    def default_text(self) -> str:
        """The default as the CLI's help and the app's tables write it."""
        if self.default is None:
            return "none"
        return self.default if self.kind is str else f"{self.default:g}"


def _parse_int(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)  # "10.0" or "1e3": validate() accepts whole numbers only


MODE_HELP = ("subgradient: adds λ·∂R(γ) to γ's gradient after backward (γ gets small, rarely exactly 0); "
             "proximal: replaces γ by its prox with step λ·lr / (1 − momentum) after each optimizer step (exact zeros)")


def mode_param(*modes: str, default: str | None = None) -> Param:
    """The `mode` parameter: how the penalty acts on γ, one of `modes` (default: `default`, else the first)."""
    return Param("mode", str, default or modes[0], MODE_HELP, choices=modes)
