"""Weights files uploaded through the app, kept in the store (`<runs>/uploads/`) so an import job can read them
and the run that records them keeps pointing at a file that exists."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from slimcore.errors import ConfigError, StoreError
from slimcore.store.runs import RunStore

MAX_UPLOAD_BYTES = 2 * 1024**3  # Streamlit's own upload limit is lower by default (200 MB)


def save_upload(store: RunStore, name: str, data: bytes) -> Path:
    """Writes the upload once per content (same bytes → same file) and returns its path."""
    if not data:
        raise ConfigError(f"the upload {name!r} is empty; choose a .pt or .pth weights file.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ConfigError(f"the upload {name!r} is larger than {MAX_UPLOAD_BYTES // 1024**3} GiB.")
    digest = hashlib.sha256(data).hexdigest()[:16]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(name).stem).strip("-")[:40] or "weights"
    path = store.root / "uploads" / f"{digest}-{stem}.pt"
    if path.is_file() and path.stat().st_size == len(data):
        return path
    tmp = path.with_suffix(".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"could not keep the upload in {path.parent}: {e.strerror or e}; free disk space.") from e
    return path
