"""Accuracy of a model file on a data split: a pruned model.pt (`slimcore evaluate`, the app's upload box) or a
run's training checkpoint (the upload box). Files load with `weights_only`: no code in them ever runs."""
from __future__ import annotations

import io
from typing import Any

from slimcore.errors import CheckpointError, ConfigError
from slimcore.pruning.loader import PRUNED_FORMAT, PrunedFile, pruned_from_state
from slimcore.store.checkpoints import TRAIN_FORMAT


def evaluate_pruned(pruned: PrunedFile, dataset: str | None = None, data_root: str | None = None,
                    split: str = "test", device: str = "cpu") -> dict[str, Any]:
    """{"accuracy", "loss", "dataset", "split", "samples", ...} of a pruned model on a split of its own data set
    (or of `dataset`, which must have the inputs and classes the model was made for)."""
    from slimcore.data import load_dataset
    from slimcore.training.evaluate import evaluate

    meta, arch = pruned.meta, pruned.arch
    name = dataset or meta.get("dataset")
    if not name:
        raise ConfigError("the pruned model does not record its data set; give one with --dataset.")
    root = data_root if data_root is not None else (meta.get("data_root") if name == meta.get("dataset") else None)
    data = load_dataset(name, root=root, seed=int(meta.get("seed") or 0))
    want = (arch["in_channels"], arch["image_size"], arch["image_size"])
    if data.input_shape != want or data.num_classes != arch["num_classes"]:
        raise ConfigError(f"the model takes {want[0]}×{want[1]}×{want[2]} inputs and predicts {arch['num_classes']} "
                          f"classes; data set {name!r} has {'×'.join(map(str, data.input_shape))} inputs and "
                          f"{data.num_classes} classes.")
    samples = getattr(data, split)
    loss, accuracy = evaluate(pruned.model, samples, device)
    return {"accuracy": accuracy, "loss": loss, "dataset": name, "split": split, "samples": len(samples),
            "kind": f"pruned model (from run {meta.get('parent', '?')}, {meta.get('ranking', '?')} ranking)",
            "model": arch.get("model"), "params": sum(p.numel() for p in pruned.model.parameters())}


def evaluate_training_state(state: dict, split: str = "test", device: str = "cpu") -> dict[str, Any]:
    """The same figures for a training checkpoint (last.pt of a run), with its run's model and data."""
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
    samples = getattr(data, split)
    loss, accuracy = evaluate(model, samples, device)
    return {"accuracy": accuracy, "loss": loss, "dataset": config.dataset, "split": split, "samples": len(samples),
            "kind": "training checkpoint", "model": config.model, "epoch": state.get("epoch"),
            "params": sum(p.numel() for p in model.parameters())}


def load_upload(data: bytes) -> dict[str, Any]:
    """The dictionary in an uploaded file; anything but plain tensors and values is refused without running code."""
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


def evaluate_upload(data: bytes, device: str = "cpu") -> dict[str, Any]:
    """Test-split figures of an uploaded pruned model.pt or training checkpoint, evaluated in memory (the upload
    is never written to disk)."""
    state = load_upload(data)
    if state.get("format") == TRAIN_FORMAT:
        return evaluate_training_state(state, device=device)
    if state.get("format") == PRUNED_FORMAT:
        return evaluate_pruned(pruned_from_state(state, "the upload"), device=device)
    raise CheckpointError(
        "the upload is not a slimcore checkpoint: expected a pruned model.pt (from the Prune page) or a training "
        "checkpoint (last.pt in a run's folder).")
