"""The data-set registry and `load_dataset`, the data package's public entry point."""
from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any, Callable

from slimcore.data.splits import DataSplits
from slimcore.errors import ConfigError
from slimcore.registry import Registry

# Each entry: fn(root: Path | None, seed: int, **options) -> DataSplits, registered by its file.
DATASETS: Registry[Callable[..., DataSplits]] = Registry("dataset")


def default_root() -> Path:
    """Where downloadable data sets live: $SLIMCORE_DATA, else ~/.cache/slimcore/data."""
    return Path(os.environ.get("SLIMCORE_DATA") or Path.home() / ".cache" / "slimcore" / "data").expanduser()


def load_dataset(name: str, root: str | os.PathLike | None = None, seed: int = 0, **options: Any) -> DataSplits:
    """Load data set `name`, split deterministically by `seed`; options (e.g. image_size) go to its loader."""
    loader = DATASETS.get(name)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"seed must be an integer, got {seed!r}.")
    accepted = [p for p in inspect.signature(loader).parameters if p not in ("root", "seed")]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        allowed = ", ".join(accepted) or "none"
        raise ConfigError(f"dataset {name!r} has no option {', '.join(unknown)}; its options: {allowed}.")
    if root is not None and not getattr(loader, "uses_root", True):
        folders = ", ".join(n for n in DATASETS.names() if getattr(DATASETS.get(n), "uses_root", True))
        raise ConfigError(f"dataset {name!r} is built in and reads no data folder; leave the data folder unset, "
                          f"or pick a data set that reads one ({folders}).")
    root = Path(root).expanduser() if root is not None else None
    if name not in DATASETS.plugins:
        return loader(root=root, seed=seed, **options)
    from slimcore.errors import DataError, SlimcoreError

    try:
        splits = loader(root=root, seed=seed, **options)
    except SlimcoreError:
        raise
    except Exception as e:  # a plugin's loader can raise anything: say whose it is
        raise DataError(f"dataset {name!r} (plugin {DATASETS.plugins[name]}) failed to load: {type(e).__name__}: "
                        f"{str(e)[:200]}") from e
    if not isinstance(splits, DataSplits):
        raise DataError(f"dataset {name!r} (plugin {DATASETS.plugins[name]}) returned a {type(splits).__name__}, "
                        "not slimcore.data.DataSplits.")
    return splits


def loader_problem(fn: object) -> str | None:
    """Why `fn` cannot be a data-set loader `(root, seed, **options) -> DataSplits` (None when it can)."""
    if not callable(fn):
        return f"it is a {type(fn).__name__}, not a callable (root, seed) -> DataSplits"
    try:
        inspect.signature(fn).bind(root=None, seed=0)
    except TypeError as e:
        return f"it cannot be called as (root, seed) -> DataSplits ({e})"
    except ValueError:  # a builtin without a signature: let the call decide
        return None
    return None


def list_datasets() -> list[str]:
    """Names of the registered data sets."""
    return DATASETS.names()
