"""Checkpoint files: written to a temp file and renamed, so a crash or a full disk keeps the old one."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from slimcore.errors import CheckpointError

TRAIN_FORMAT = "slimcore-train-checkpoint"


def save_checkpoint(state: dict[str, Any], path: Path) -> Path:
    """Atomically replaces `path` with `state`; on failure the previous file is untouched and no temp file stays."""
    path = Path(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        # torch.save reports a failed write inside its zip writer as a RuntimeError whose context is the OSError
        cause = e if isinstance(e, OSError) else e.__context__ if isinstance(e.__context__, OSError) else None
        if cause is not None:
            raise CheckpointError(f"could not write checkpoint {path}: {cause.strerror or cause}. Free disk space "
                                  "or choose another --runs-dir; the previous checkpoint is kept.") from e
        raise
    return path


def check_training_state(state: dict[str, Any], run_config: dict, path: str | os.PathLike) -> dict[str, Any]:
    """`state` when it is a training checkpoint of a run with `run_config` (same model and data set); otherwise a
    CheckpointError that says what the file is."""
    config = state.get("config")
    if state.get("format") != TRAIN_FORMAT or not isinstance(config, dict) or not isinstance(state.get("model"), dict):
        raise CheckpointError(f"{path} is not a slimcore training checkpoint (a last.pt written by `slimcore train`); "
                              "resume the run from its own checkpoint or train it again.")
    for key in ("model", "dataset"):
        if config.get(key) != run_config.get(key):
            raise CheckpointError(f"{path} is a checkpoint of {key} {config.get(key)!r}, but the run uses "
                                  f"{run_config.get(key)!r}: it belongs to another run. Train the run again.")
    return state


def remove_stale_temps(path: Path) -> list[Path]:
    """Deletes temp files a killed writer of `path` left behind (`save_checkpoint` never finished them);
    call it only when this process is the file's one writer. Returns what was removed."""
    path = Path(path)
    removed = []
    for tmp in path.parent.glob(f"{path.name}.*.tmp"):
        try:
            tmp.unlink()
            removed.append(tmp)
        except OSError:
            pass
    return removed


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Loads a checkpoint with `weights_only=True` (no code in the file can run)."""
    if not str(path).strip():
        raise CheckpointError("no checkpoint file given; give the path of a .pt file.")
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist.")
    if not path.is_file():
        raise CheckpointError(f"{path} is not a file; give the path of a .pt file.")
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
