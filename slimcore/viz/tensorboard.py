"""A run's metrics and BN-γ snapshots as TensorBoard event files: scalars per metric, histograms of γ per layer.

Data in (the store's `metrics`, `snapshots` and layer list), event files out; `tensorboard` is an optional
dependency, imported only when writing.
"""
from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from slimcore.errors import ConfigError, StoreError
from slimcore.viz.gamma import split_layers

EVENT_FILE_PREFIX = "events.out.tfevents."
INSTALL_HINT = "pip install 'slimcore[tensorboard]'"
# Stored metric name prefix → TensorBoard section; `epoch_` before `train_`: epoch_train_loss is an epoch figure.
METRIC_GROUPS = (("epoch_", "epoch"), ("train_", "train"), ("val_", "val"), ("test_", "test"))
# A big queue and no timed flush: everything is written at once, then closed.
WRITER_QUEUE = 100_000
WRITER_FLUSH_SECS = 3600


def metric_tag(name: str) -> str:
    """The TensorBoard tag of a stored metric: `train_loss` → `train/loss`, `lr` → `train/lr`, `sparsity@0.01`
    → `sparsity/below_0.01`, `sparsity@0` (|γ| exactly 0) → `sparsity/zero`; other names stay as they are."""
    for prefix, group in METRIC_GROUPS:
        if name.startswith(prefix) and len(name) > len(prefix):
            return f"{group}/{name[len(prefix):]}"
    if name == "lr":
        return "train/lr"
    if name.startswith("sparsity@"):
        threshold = name[len("sparsity@"):]
        return "sparsity/zero" if threshold == "0" else f"sparsity/below_{threshold}"
    return name


def _unique(tag: str, used: set[str]) -> str:
    """`tag`, or `tag_2`, `tag_3`… when another series already has it (a layer named `all`, say)."""
    out, n = tag, 1
    while out in used:
        n += 1
        out = f"{tag}_{n}"
    used.add(out)
    return out


def scalar_events(metrics: Mapping[str, Mapping[str, Sequence[float]]]) -> list[tuple[int, str, float]]:
    """(step, tag, value) of every stored metric value ({name: {"step": [...], "value": [...]}})."""
    used: set[str] = set()
    out = []
    for name, series in metrics.items():
        tag = _unique(metric_tag(name), used)
        out += [(int(step), tag, float(value)) for step, value in zip(series["step"], series["value"])]
    return out


def histogram_events(snapshots: Sequence[Mapping], layers: Sequence[Mapping]) -> list[tuple[int, str, np.ndarray]]:
    """(step, tag, values) per snapshot: γ of all layers (`gamma/all`), |γ| of all (`abs_gamma/all`) and γ of
    each BN layer (`gamma/<layer>`). Non-finite values are left out; a histogram with no value is skipped."""
    used = {"gamma/all", "abs_gamma/all"}
    layer_tags = {str(layer["name"]): _unique(f"gamma/{layer['name']}", used) for layer in layers}
    out = []
    for snap in snapshots:
        gamma = np.asarray(snap["gamma"], dtype=np.float32)
        try:
            parts = split_layers(gamma, layers) if layers else {}
        except ValueError as e:
            raise StoreError(f"the γ snapshot at step {snap['step']} does not match the run's BN layers ({e}); "
                             "the run's records are inconsistent.") from e
        series = [("gamma/all", gamma), ("abs_gamma/all", np.abs(gamma))]
        series += [(layer_tags[name], values) for name, values in parts.items()]
        for tag, values in series:
            finite = values[np.isfinite(values)]
            if finite.size:
                out.append((int(snap["step"]), tag, finite))
    return out


def summary_writer_class():
    """torch's SummaryWriter, or a ConfigError saying how to install the optional `tensorboard` package."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as e:
        raise ConfigError(f"exporting to TensorBoard needs the tensorboard package ({e}); install it with "
                          f"`{INSTALL_HINT}` (or `pip install tensorboard`).") from e
    return SummaryWriter


def write_events(folder: str | os.PathLike, scalars: Sequence[tuple[int, str, float]],
                 histograms: Sequence[tuple[int, str, np.ndarray]]) -> list[Path]:
    """Writes the events into one new event file in `folder` (created if missing) and removes the event files an
    earlier export left there, so TensorBoard shows the run once; returns the new file(s). Events go in step
    order, as a writer in the training loop would have written them."""
    SummaryWriter = summary_writer_class()
    folder = Path(folder)
    partial = folder.parent / f".{folder.name}.partial-{secrets.token_hex(3)}"
    events = sorted([(step, 0, tag, value) for step, tag, value in scalars]
                    + [(step, 1, tag, values) for step, tag, values in histograms], key=lambda e: (e[0], e[1]))
    try:
        partial.mkdir(parents=True)
        writer = SummaryWriter(log_dir=str(partial), max_queue=WRITER_QUEUE, flush_secs=WRITER_FLUSH_SECS)
        try:
            for step, is_histogram, tag, value in events:
                if is_histogram:
                    writer.add_histogram(tag, value, global_step=step)
                else:
                    writer.add_scalar(tag, value, global_step=step)
        finally:
            writer.close()
        folder.mkdir(parents=True, exist_ok=True)
        earlier = set(folder.glob(EVENT_FILE_PREFIX + "*"))
        written = []
        for new in sorted(partial.glob(EVENT_FILE_PREFIX + "*")):  # the new file in place first, then the old go
            written.append(folder / new.name)
            os.replace(new, written[-1])
        for path in earlier - set(written):
            path.unlink()
    except OSError as e:
        raise StoreError(f"could not write TensorBoard files to {folder}: {e.strerror or e}; choose a writable "
                         "folder.") from e
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return written
