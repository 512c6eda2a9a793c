"""Evaluating an uploaded checkpoint safely: tensors only (`weights_only`), keys and shapes checked by the model."""
from __future__ import annotations

import io
from typing import Any

from slimcore.errors import CheckpointError, SlimcoreError
from slimcore.pruning.loader import PRUNED_FORMAT
from slimcore.store.checkpoints import TRAIN_FORMAT


def load_uploaded(data: bytes) -> dict[str, Any]:
    """The checkpoint's dictionary; anything but plain tensors and values is refused without running code."""
    import torch

    if not data:
        raise CheckpointError("the uploaded file is empty; upload a model.pt written by slimcore.")
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as e:  # garbage, truncation and refused pickles raise several types
        raise CheckpointError(
            "the upload is not a valid checkpoint: it is truncated or corrupted, or it holds objects other than "
            "tensors and plain values, which are refused for safety. Upload a model.pt or last.pt written by "
            "slimcore.") from e
    if not isinstance(state, dict):
        raise CheckpointError("the upload is not a slimcore checkpoint (expected a dictionary of tensors).")
    return state


def evaluate_checkpoint(data: bytes, device: str = "cpu") -> dict[str, Any]:
    """Test accuracy, parameter count and architecture of an uploaded training checkpoint or pruned model.pt."""
    state = load_uploaded(data)
    if state.get("format") == TRAIN_FORMAT:
        return _evaluate_training_checkpoint(state, device)
    if state.get("format") == PRUNED_FORMAT:
        return _evaluate_pruned(state, device)
    raise CheckpointError(
        "the upload is not a slimcore checkpoint: expected a pruned model.pt (from the Prune page) or a training "
        "checkpoint (last.pt in a run's folder).")


def _evaluate_pruned(state: dict, device: str) -> dict[str, Any]:
    from slimcore.data import load_dataset
    from slimcore.pruning.loader import pruned_from_state
    from slimcore.training.evaluate import evaluate

    # Rebuilt from the state already loaded with weights_only: the upload is never written to disk.
    pruned = pruned_from_state(state, "the upload")
    meta = pruned.meta
    if not meta.get("dataset"):
        raise CheckpointError("the pruned model does not name the data set it was trained on.")
    splits = load_dataset(meta["dataset"], root=meta.get("data_root"), seed=meta.get("seed", 0))
    loss, accuracy = evaluate(pruned.model, splits.test, device)
    return {
        "kind": f"pruned model (from run {meta.get('parent', '?')}, {meta.get('ranking', '?')} ranking)",
        "model": pruned.arch.get("model"), "dataset": meta["dataset"], "test_accuracy": accuracy,
        "test_loss": loss, "params": sum(p.numel() for p in pruned.model.parameters()),
    }


def _evaluate_training_checkpoint(state: dict, device: str) -> dict[str, Any]:
    from slimcore.config import TrainConfig
    from slimcore.data import load_dataset
    from slimcore.models import create_model
    from slimcore.training.evaluate import evaluate

    if not isinstance(state.get("config"), dict):
        raise CheckpointError("the checkpoint does not record its run's settings; upload a last.pt from a run's "
                              "folder or a model.pt from the Prune page.")
    config = TrainConfig.from_dict(dict(state["config"]))
    data = load_dataset(config.dataset, root=config.data_root, seed=config.seed)
    model = create_model(config.model, data.num_classes, data.in_channels, data.image_size)
    weights = state.get("model")
    if not isinstance(weights, dict):
        raise CheckpointError("the checkpoint has no model weights.")
    try:
        model.load_state_dict(weights)
    except (RuntimeError, TypeError, KeyError, AttributeError) as e:
        raise CheckpointError(f"the weights do not fit a {config.model!r}: {str(e).splitlines()[0][:200]}") from e
    loss, accuracy = evaluate(model, data.test, device)
    return {
        "kind": "training checkpoint", "model": config.model, "dataset": config.dataset,
        "epoch": state.get("epoch"), "test_accuracy": accuracy, "test_loss": loss,
        "params": sum(p.numel() for p in model.parameters()),
    }
