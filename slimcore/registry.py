"""A name → constructor table, one per extension point (models, data sets, penalties, rankings).

A registry can also take entries from other installed packages through a Python entry-point group (for
instance `slimcore.models`): each entry point names a callable that becomes an entry like a built-in one. An entry
point that fails to load is kept as a failure (name, where it points, why) and every other entry stays usable.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

from slimcore.errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class PluginFailure:
    """An entry point that could not become a registry entry."""

    name: str
    target: str  # what the entry point names: "package.module:callable"
    reason: str


class Registry(Generic[T]):
    """Holds named entries; unknown names fail with the list of valid ones."""

    def __init__(self, kind: str, plural: str | None = None) -> None:
        self.kind = kind
        self.plural = plural or kind + "s"
        self._entries: dict[str, T] = {}
        self._help: dict[str, str] = {}
        self.plugins: dict[str, str] = {}  # entry name → the entry point it came from ("package.module:callable")
        self.failures: dict[str, PluginFailure] = {}

    def register(self, name: str, help: str = "") -> Callable[[T], T]:
        def decorator(entry: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = entry
            self._help[name] = help or (getattr(entry, "__doc__", "") or "").strip().split("\n")[0]
            return entry

        return decorator

    def unregister(self, name: str) -> None:
        """Removes an entry (a plugin that is uninstalled; tests)."""
        self._entries.pop(name, None)
        self._help.pop(name, None)
        self.plugins.pop(name, None)

    def load_entry_points(self, group: str, check: Callable[[object], str | None] | None = None) -> None:
        """Registers every entry point of `group` not registered yet; `check(obj)` returns why an object cannot
        be an entry (None when it can). Safe to call again: a package installed since is picked up."""
        from importlib import metadata

        for ep in metadata.entry_points(group=group):
            if ep.name in self.plugins and self.plugins[ep.name] == ep.value:
                continue
            self.failures.pop(ep.name, None)
            if ep.name in self._entries:
                self.failures[ep.name] = PluginFailure(ep.name, ep.value, f"the name is taken by a built-in "
                                                       f"{self.kind}; rename the entry point")
                continue
            try:
                entry = ep.load()
            except Exception as e:  # a plugin's import can raise anything; the registry must stay usable
                self.failures[ep.name] = PluginFailure(ep.name, ep.value, f"{type(e).__name__}: {e}")
                continue
            problem = check(entry) if check is not None else None
            if problem:
                self.failures[ep.name] = PluginFailure(ep.name, ep.value, problem)
                continue
            doc = (getattr(entry, "__doc__", "") or "").strip().split("\n")[0]
            self.register(ep.name, help=f"{doc or ep.value} (plugin {ep.value})")(entry)
            self.plugins[ep.name] = ep.value

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
