"""Reading a pruned model file (model.pt): the base zoo model, resized to the recorded layer shapes, then loaded.

Module-level imports stay light (no torch) because `slimcore/__init__.py` re-exports `load_pruned`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slimcore.errors import CheckpointError, SlimcoreError

PRUNED_FORMAT = "slimcore-pruned-model"
PRUNED_VERSION = 1


@dataclass(frozen=True)
class PrunedFile:
    """A loaded model.pt: the rebuilt model (eval mode), its architecture record and its metadata."""

    model: Any
    arch: dict
    meta: dict


def _int(spec: dict, key: str, where: str) -> int:
    v = spec.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise CheckpointError(f"pruned model file: {where}.{key} must be a positive integer, got {v!r}.")
    return v


def resize(model, modules: dict) -> None:
    """Gives every conv/BN/linear named in `modules` the recorded widths (fresh, uninitialised tensors)."""
    import torch
    from torch import nn

    from slimcore.pruning.math.bias_map import BiasMapConv2d, replace_module

    layers = dict(model.named_modules())
    for name, spec in modules.items():
        m = layers.get(name)
        if isinstance(spec, dict) and spec.get("type") == "BiasMapConv2d" and type(m) is nn.Conv2d:
            size = spec.get("map_size")
            if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size)):
                raise CheckpointError(f"pruned model file: {name}.map_size must be two positive integers, got {size!r}.")
            m = BiasMapConv2d(m.in_channels, m.out_channels, m.kernel_size, stride=m.stride, padding=m.padding,
                              dilation=m.dilation, groups=m.groups, bias=m.bias is not None, map_size=tuple(size))
            replace_module(model, name, m)
        if m is None or not isinstance(spec, dict) or spec.get("type") != type(m).__name__:
            raise CheckpointError(f"pruned model file: layer {name!r} ({spec.get('type') if isinstance(spec, dict) else spec}) "
                                  "does not exist in the base model; the file belongs to another architecture.")
        if isinstance(m, nn.Conv2d):
            c_in, c_out, groups = _int(spec, "in_channels", name), _int(spec, "out_channels", name), _int(spec, "groups", name)
            if c_in % groups or c_out % groups:
                raise CheckpointError(f"pruned model file: layer {name!r} has channels not divisible by its groups.")
            m.in_channels, m.out_channels, m.groups = c_in, c_out, groups
            m.weight = nn.Parameter(torch.empty(c_out, c_in // groups, *m.kernel_size))
            m.bias = nn.Parameter(torch.empty(c_out)) if spec.get("bias") else None
            if isinstance(m, BiasMapConv2d):
                m.bias_map = torch.zeros(c_out, *m.bias_map.shape[-2:])
        elif isinstance(m, nn.BatchNorm2d):
            n = _int(spec, "num_features", name)
            m.num_features = n
            m.weight, m.bias = nn.Parameter(torch.empty(n)), nn.Parameter(torch.empty(n))
            m.running_mean, m.running_var = torch.zeros(n), torch.ones(n)
        elif isinstance(m, nn.Linear):
            f_in, f_out = _int(spec, "in_features", name), _int(spec, "out_features", name)
            m.in_features, m.out_features = f_in, f_out
            m.weight = nn.Parameter(torch.empty(f_out, f_in))
            m.bias = nn.Parameter(torch.empty(f_out)) if spec.get("bias") else None
        else:
            raise CheckpointError(f"pruned model file: layer {name!r} is a {type(m).__name__}, which is never resized.")


def read_pruned(path: str | os.PathLike) -> PrunedFile:
    """Loads model.pt (weights_only) and rebuilds its model; anything else raises CheckpointError."""
    from slimcore.store.checkpoints import load_checkpoint

    if not str(path).strip():
        raise CheckpointError("no model file given; give the path of a model.pt written by `slimcore prune`.")
    path = Path(path)
    try:
        state = load_checkpoint(path)
    except CheckpointError as e:
        if not path.is_file():
            raise
        raise CheckpointError(f"{path} is not a pruned slimcore model (model.pt written by `slimcore prune`): "
                              "it is not a weights-only PyTorch file.") from e
    return pruned_from_state(state, str(path))


def pruned_from_state(state: dict, path: str) -> PrunedFile:
    """Rebuilds the model of an already loaded (weights-only) model.pt; `path` names it in messages."""
    from slimcore.models import create_model

    if state.get("format") != PRUNED_FORMAT:
        raise CheckpointError(f"{path} is not a pruned slimcore model (model.pt written by `slimcore prune`); "
                              "training checkpoints are evaluated through their run.")
    if state.get("version") != PRUNED_VERSION:
        raise CheckpointError(f"{path} is a pruned model of format version {state.get('version')!r}; this "
                              f"slimcore reads version {PRUNED_VERSION}.")
    arch, meta = state.get("arch"), state.get("meta") or {}
    if not isinstance(arch, dict) or not isinstance(arch.get("modules"), dict) or "state_dict" not in state:
        raise CheckpointError(f"{path} is a truncated pruned model file (no architecture or weights).")
    try:
        model = create_model(arch.get("model"), arch.get("num_classes"), arch.get("in_channels"), arch.get("image_size"))
    except SlimcoreError as e:
        raise CheckpointError(f"{path} names a model this slimcore cannot build: {e}") from e
    resize(model, arch["modules"])
    try:
        model.load_state_dict(state["state_dict"])
    except (RuntimeError, TypeError) as e:
        raise CheckpointError(f"{path}: the weights do not match the recorded shapes: "
                              f"{str(e).splitlines()[0][:200]}") from e
    return PrunedFile(model.eval(), arch, meta)


def load_pruned(path: str | os.PathLike):
    """The nn.Module (eval mode) saved by `slimcore prune` in model.pt."""
    return read_pruned(path).model
