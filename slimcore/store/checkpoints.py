"""Checkpoint files: written to a temp file and renamed, so a crash or a full disk keeps the old one."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from slimcore.errors import CheckpointError


def save_checkpoint(state: dict[str, Any], path: Path) -> Path:
    """Atomically replaces `path` with `state`; on failure the previous file is untouched."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise CheckpointError(f"could not write checkpoint {path}: {e.strerror or e}. Free disk space or "
                                  "choose another --runs-dir; the previous checkpoint is kept.") from e
        raise
    return path


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Loads a checkpoint with `weights_only=True` (no code in the file can run)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for garbage, truncation and refused pickles
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise CheckpointError(
            f"{path} is not a valid slimcore checkpoint (truncated, corrupted, or it holds objects other than "
            f"tensors and plain values, which are refused for safety): {reason}"
        ) from e
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} is not a slimcore checkpoint (expected a dictionary of tensors).")
    return state
