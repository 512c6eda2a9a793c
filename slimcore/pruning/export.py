"""Writing a pruned model: model.pt (weights + architecture record, for `load_pruned`) and model.onnx."""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from slimcore.errors import CheckpointError
from slimcore.pruning.loader import PRUNED_FORMAT, PRUNED_VERSION
from slimcore.pruning.math.bias_map import BiasMapConv2d
from slimcore.store.checkpoints import save_checkpoint


def describe_layers(model: nn.Module) -> dict[str, dict]:
    """The shape of every conv, BN and linear layer: what `load_pruned` resizes the base model to."""
    out: dict[str, dict] = {}
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            out[name] = {"type": "Conv2d", "in_channels": m.in_channels, "out_channels": m.out_channels,
                         "groups": m.groups, "bias": m.bias is not None}
            if isinstance(m, BiasMapConv2d):  # a per-position compensation of removed inputs (border included)
                out[name].update(type="BiasMapConv2d", map_size=list(m.bias_map.shape[-2:]))
        elif isinstance(m, nn.BatchNorm2d):
            out[name] = {"type": "BatchNorm2d", "num_features": m.num_features}
        elif isinstance(m, nn.Linear):
            out[name] = {"type": "Linear", "in_features": m.in_features, "out_features": m.out_features,
                         "bias": m.bias is not None}
    return out


def save_pruned(model: nn.Module, path: str | os.PathLike, base_model: str, num_classes: int, in_channels: int,
                image_size: int, meta: dict | None = None) -> Path:
    """Writes model.pt atomically: state_dict, architecture record and plain-value metadata."""
    arch = {"model": base_model, "num_classes": int(num_classes), "in_channels": int(in_channels),
            "image_size": int(image_size), "modules": describe_layers(model)}
    state = {"format": PRUNED_FORMAT, "version": PRUNED_VERSION, "arch": arch,
             "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
             "meta": dict(meta or {})}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_checkpoint(state, path)


def export_onnx(model: nn.Module, input_shape: tuple[int, int, int], path: str | os.PathLike) -> dict:
    """model.onnx with a dynamic batch axis: the dynamo exporter, or the TorchScript one if dynamo fails.

    Returns {"path", "exporter": "dynamo" | "torchscript", "fallback_reason"}.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    example = (torch.randn(2, *input_shape),)  # batch 2: a batch of 1 would let the exporter fix the axis to 1
    try:
        torch.onnx.export(model, example, str(path), dynamo=True, input_names=["input"], output_names=["logits"],
                          dynamic_shapes=({0: torch.export.Dim("batch", min=1)},), external_data=False,
                          verbose=False, report=False)
        return {"path": str(path), "exporter": "dynamo", "fallback_reason": None}
    except Exception as e:  # noqa: BLE001 - the dynamo exporter fails in many ways; the fallback is the fix
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
    try:
        torch.onnx.export(model, example, str(path), dynamo=False, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17)
    except Exception as e:  # noqa: BLE001
        raise CheckpointError(f"could not export {path} to ONNX with either exporter: {reason}; then {e}") from e
    return {"path": str(path), "exporter": "torchscript", "fallback_reason": reason}
