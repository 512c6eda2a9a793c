"""A name → constructor table, one per extension point (models, data sets, penalties, rankings)."""
from __future__ import annotations

import difflib
from typing import Callable, Generic, TypeVar

from slimcore.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Holds named entries; unknown names fail with the list of valid ones."""

    def __init__(self, kind: str, plural: str | None = None) -> None:
        self.kind = kind
        self.plural = plural or kind + "s"
        self._entries: dict[str, T] = {}
        self._help: dict[str, str] = {}

    def register(self, name: str, help: str = "") -> Callable[[T], T]:
        def decorator(entry: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = entry
            self._help[name] = help or (getattr(entry, "__doc__", "") or "").strip().split("\n")[0]
            return entry

        return decorator

    def get(self, name: str) -> T:
        if not isinstance(name, str) or name not in self._entries:
            valid = ", ".join(self.names())
            close = difflib.get_close_matches(str(name), self.names(), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"unknown {self.kind} {name!r}.{hint} Valid {self.plural}: {valid}.")
        return self._entries[name]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def describe(self, name: str) -> str:
        self.get(name)
        return self._help[name]

    def __contains__(self, name: object) -> bool:
        return name in self._entries
