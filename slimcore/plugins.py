"""Models and data sets from other installed packages (entry points `slimcore.models`, `slimcore.datasets`).

A package registers them in its own pyproject.toml:

    [project.entry-points."slimcore.models"]
    mynet = "mypackage.models:build_mynet"        # (num_classes, in_channels, image_size) -> nn.Module

    [project.entry-points."slimcore.datasets"]
    mydata = "mypackage.data:load_mydata"         # (root, seed, **options) -> slimcore.data.DataSplits

The registries load them when slimcore.models / slimcore.data are first imported; `load()` looks again (a package
installed since, a test's own entry points).
"""
from __future__ import annotations


def _registries():
    from slimcore import data, models

    return (("model", models.MODELS, models.ENTRY_POINT_GROUP, models.signature_problem),
            ("dataset", data.DATASETS, data.ENTRY_POINT_GROUP, data.loader_problem))


def load() -> None:
    """Registers entry points installed since the registries were built."""
    from importlib import metadata

    if hasattr(metadata, "_cache_clear"):  # pragma: no cover - not in every Python
        metadata._cache_clear()
    import importlib

    importlib.invalidate_caches()
    for _, registry, group, check in _registries():
        registry.load_entry_points(group, check)


def loaded() -> list[dict]:
    """Every plugin entry, as {"kind", "name", "target", "help"}."""
    return [{"kind": kind, "name": name, "target": target, "help": registry.describe(name)}
            for kind, registry, _, _ in _registries() for name, target in sorted(registry.plugins.items())]


def failures() -> list[dict]:
    """Every entry point that failed to load, as {"kind", "name", "target", "reason"}."""
    return [{"kind": kind, "name": f.name, "target": f.target, "reason": f.reason}
            for kind, registry, _, _ in _registries() for f in registry.failures.values()]
