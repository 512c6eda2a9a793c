"""JSON files next to a run: written to a temp file and renamed, so a reader never sees half a file."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from slimcore.errors import StoreError
from slimcore.jsonsafe import json_safe


def write_json(path: str | os.PathLike, value) -> Path:
    """Writes `value` as strict JSON to a temp file, then renames it over `path`; on failure the old file stays
    and no temp file is left."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w") as f:
            json.dump(json_safe(value), f, indent=1)
        os.replace(tmp, path)
        tmp = None
    except (OSError, TypeError, ValueError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else e
        raise StoreError(f"could not write {path}: {reason}; choose a writable folder.") from e
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return path


def read_json(path: str | os.PathLike):
    """The file's value, or None when it is missing or unreadable (a cache miss, not an error)."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
