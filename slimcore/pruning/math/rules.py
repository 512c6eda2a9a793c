"""Per-layer rules on top of the global ranking: locked groups, a cap on a group's removed share, a group's own
minimum width, and kept widths rounded up to a multiple of N (hardware-friendly channel counts).

`LayerRules` names groups as a user does (a group's name or any BN layer in it) and is saved with a job's
settings; `GroupLimits` is the same rules resolved against one model's groups, the form `select` applies.
The semantics follow Torch-Pruning: `max_removed` is its per-layer `max_pruning_ratio` (at most that share of a
group's channels removed), `round_to` its `round_to` (NVIDIA Model Optimizer calls it `channel_divisor`).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from slimcore.errors import ConfigError


def _name(value: Any, flag: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{flag} needs a group or BN layer name, got {value!r}.")
    return value.strip()


def _share(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 <= float(value) < 1):
        raise ConfigError(f"--max-removed {name}: the share of channels it may lose must be a number in [0, 1) "
                          f"(0.5 = at most half; use --lock to keep every channel), got {value!r}.")
    return float(value)


def _width(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"--min-width {name}: the channels it keeps at least must be an integer >= 1, got {value!r}.")
    return int(value)


@dataclass(frozen=True)
class GroupLimits:
    """Rules resolved against one model: the fewest channels each group keeps, and the multiple kept widths round to."""

    min_kept: tuple[int, ...]
    round_to: int = 1


def rounded_width(kept: int, width: int, round_to: int) -> int:
    """`kept` rounded up to a multiple of `round_to`, capped at the group's full `width` (never below `kept`)."""
    return min(width, -(-kept // round_to) * round_to) if round_to > 1 else kept


@dataclass(frozen=True)
class LayerRules:
    """What the user fixed per group: `locked` names are never pruned, `max_removed[name]` caps the share removed,
    `min_width[name]` the channels kept at least, and every kept width is a multiple of `round_to` (or the full
    group). A name is a group's name or any BN layer of the group."""

    locked: tuple[str, ...] = ()
    max_removed: Mapping[str, float] = field(default_factory=dict)
    min_width: Mapping[str, int] = field(default_factory=dict)
    round_to: int = 1

    def __post_init__(self) -> None:
        locked = [self.locked] if isinstance(self.locked, str) else self.locked
        if not isinstance(locked, (list, tuple)):
            raise ConfigError(f"locked must be a list of group or BN layer names, got {self.locked!r}.")
        object.__setattr__(self, "locked", tuple(sorted({_name(n, "--lock") for n in locked})))
        for attr, flag, check in (("max_removed", "--max-removed", _share), ("min_width", "--min-width", _width)):
            values = getattr(self, attr)
            if not isinstance(values, Mapping):
                raise ConfigError(f"{attr} must map group or BN layer names to values, got {values!r}.")
            checked = {_name(k, flag): check(k, v) for k, v in values.items()}
            object.__setattr__(self, attr, dict(sorted(checked.items())))
        if isinstance(self.round_to, bool) or not isinstance(self.round_to, int) or not 1 <= self.round_to <= 4096:
            raise ConfigError(f"--round-to must be an integer in 1..4096 (1 = no rounding; 8 keeps widths a multiple "
                              f"of 8), got {self.round_to!r}.")

    @property
    def empty(self) -> bool:
        """True when the rules change nothing (the global ranking alone decides)."""
        return not (self.locked or self.max_removed or self.min_width) and self.round_to == 1

    def to_dict(self) -> dict[str, Any]:
        return {"locked": list(self.locked), "max_removed": dict(self.max_removed), "min_width": dict(self.min_width),
                "round_to": self.round_to}

    @classmethod
    def from_dict(cls, values: Any) -> "LayerRules":
        if not isinstance(values, Mapping):
            raise ConfigError(f"layer rules must be a JSON object (locked, max_removed, min_width, round_to), "
                              f"got {values!r}.")
        unknown = sorted(set(values) - {"locked", "max_removed", "min_width", "round_to"})
        if unknown:
            raise ConfigError(f"unknown layer rule(s) {', '.join(unknown)}; valid: locked, max_removed, min_width, "
                              "round_to.")
        return cls(**values)

    def __hash__(self) -> int:  # the mappings are dicts; hash what the rules say
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    def resolve(self, names: Sequence[Sequence[str]], widths: Sequence[int]) -> GroupLimits:
        """The rules for groups whose names are `names[i]` (the group's name first, then its BN layers) and widths
        `widths[i]`; a name no group has is a ConfigError listing the valid ones."""
        index: dict[str, int] = {}
        for i, aliases in enumerate(names):
            for alias in aliases:
                index.setdefault(alias, i)
        min_kept = [0] * len(widths)

        def group_of(name: str, flag: str) -> int:
            if name not in index:
                valid = ", ".join(f"{a[0]} ({', '.join(a[1:])})" if len(a) > 1 else a[0] for a in names)
                raise ConfigError(f"{flag} {name}: no channel group or BN layer of that name; valid: group (its BN "
                                  f"layers): {valid}.")
            return index[name]

        for name in self.locked:
            i = group_of(name, "--lock")
            min_kept[i] = widths[i]
        for name, share in self.max_removed.items():
            i = group_of(name, "--max-removed")
            min_kept[i] = max(min_kept[i], widths[i] - math.floor(share * widths[i] + 1e-9))
        for name, width in self.min_width.items():
            i = group_of(name, "--min-width")
            min_kept[i] = max(min_kept[i], min(width, widths[i]))
        return GroupLimits(tuple(min_kept), self.round_to)


def limits_for(rules: LayerRules | None, groups: Sequence) -> GroupLimits | None:
    """`rules` resolved against channel groups (`ChannelGroup`s: `.name`, `.bns`, `.width`); None for no rules."""
    if rules is None or rules.empty:
        return None
    return rules.resolve([[g.name, *g.bns] for g in groups], [g.width for g in groups])
