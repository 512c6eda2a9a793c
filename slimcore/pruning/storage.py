"""JSON files next to a run: written to a temp file and renamed, so a reader never sees half a file."""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

from slimcore.errors import StoreError


def _clean(value):
    """NaN/inf become null so the file is strict JSON (other tools, the app's JS)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def write_json(path: str | os.PathLike, value) -> Path:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w") as f:
            json.dump(_clean(value), f, indent=1)
        os.replace(tmp, path)
    except OSError as e:
        raise StoreError(f"could not write {path}: {e.strerror or e}; choose a writable folder.") from e
    return path


def read_json(path: str | os.PathLike):
    """The file's value, or None when it is missing or unreadable (a cache miss, not an error)."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
