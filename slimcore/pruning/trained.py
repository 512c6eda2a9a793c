"""A trained run as pruning sees it: its model with the checkpoint's weights, its data splits and its structure."""
from __future__ import annotations

import functools
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from slimcore.data import DataSplits, load_dataset
from slimcore.errors import CheckpointError, StoreError
from slimcore.models import create_model
from slimcore.analysis.calibration import mean_inputs
from slimcore.analysis.structure import Structure, analyse
from slimcore.pruning.math.compensate import MeanInputCompensation
from slimcore.store.checkpoints import check_training_state, load_checkpoint
from slimcore.store.runs import RunStore


@dataclass(frozen=True)
class TrainedRun:
    """Everything a preview or commit reads from one run; `model` is never modified (work on copies)."""

    run_id: str
    config: dict
    checkpoint: dict  # the store's row: step, epoch, path
    model: nn.Module
    data: DataSplits
    structure: Structure
    penalty_state: dict | None = None  # the penalty's state in the checkpoint (TPP's chosen filters)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return self.data.input_shape

    @property
    def cache_key(self) -> dict:
        """What a cached result of this run depends on: the checkpoint it was computed from."""
        return {"checkpoint": str(self.checkpoint["path"]), "step": self.checkpoint["step"]}

    @functools.cached_property
    def compensation(self) -> MeanInputCompensation:
        """What removed channels give back to their consumers, calibrated on the first CALIBRATION_SAMPLES
        training images: exact for channels whose γ is 0, the least-squares best constant for the others."""
        return MeanInputCompensation(mean_inputs(self.model, calibration_batches(self.data.train),
                                                 self.structure.consumers))

    def logits(self, split: str = "val") -> torch.Tensor:
        """The unpruned model's logits on a split (computed once): what `output_change` compares a cut model with."""
        from slimcore.training.evaluate import logits_and_labels

        cache = self.__dict__.setdefault("_logits", {})
        if split not in cache:
            cache[split] = logits_and_labels(self.model, getattr(self.data, split))[0]
        return cache[split]


CALIBRATION_SAMPLES = 512


def calibration_batches(dataset, samples: int = CALIBRATION_SAMPLES, batch_size: int = 256) -> list[torch.Tensor]:
    """The inputs of the first `samples` items of `dataset`, in batches, as they are (no augmentation)."""
    from slimcore.training.batches import iterate_batches, sequential_batches

    n = min(samples, len(dataset))
    return [x for x, _ in iterate_batches(dataset, sequential_batches(n, batch_size), torch.device("cpu"))]


def as_trained(model: nn.Module, config: dict, penalty_state: dict | None) -> None:
    """Undoes, in place, what the run's penalty did to the parameters and undoes at the end of training (ISTA's
    γ–W rescaling): a checkpoint taken mid-run holds γ·α and W/α, the same function, but |γ| ranks must be read
    off the γ the trained network uses."""
    if not penalty_state:
        return
    from slimcore.config import TrainConfig

    penalty = TrainConfig.from_dict(config).build_penalty()
    penalty.load_state_dict(penalty_state)
    penalty.teardown(model)


_CACHE: dict[tuple, TrainedRun] = {}
_DATA: dict[tuple, DataSplits] = {}
_LOCK = threading.Lock()
_CACHE_SIZE = 4  # runs kept in memory: the app's slider moves over one or two runs at a time


def _data(config: dict) -> DataSplits:
    key = (config["dataset"], config.get("data_root"), config.get("seed", 0))
    if key not in _DATA:
        _DATA.clear()
        _DATA[key] = load_dataset(config["dataset"], root=config.get("data_root"), seed=config.get("seed", 0))
    return _DATA[key]


def _checkpoint_of(store: RunStore, run_id: str) -> tuple[dict, dict, Path, int]:
    """(run, checkpoint row, path, mtime) of a training run that has a readable checkpoint file."""
    from slimcore.errors import ConfigError
    from slimcore.jobs import holds_model

    run = store.get_run(run_id)
    if not holds_model(run):
        raise StoreError(f"run {run_id} is a {run['kind']} run; rank, preview and prune work on training runs "
                         f"(its parent is {run['parent']}).")
    if run["summary"].get("unprunable"):
        raise ConfigError(f"run {run_id}'s model {run['config'].get('model')!r} cannot be pruned: "
                          f"{run['summary']['unprunable']}.")
    ckpt = store.latest_checkpoint(run_id)
    if ckpt is None:
        raise StoreError(f"run {run_id} has no checkpoint yet (status {run['status']}); wait for its first "
                         "epoch to end or resume it.")
    path = Path(ckpt["path"])
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError as e:
        raise CheckpointError(f"run {run_id}'s checkpoint {path} cannot be read: {e.strerror or e}.") from e
    return run, ckpt, path, stamp


def check_prunable(store: RunStore, run_id: str) -> None:
    """Raises the error pruning run `run_id` would stop with at once (unknown run, not a training run, no
    checkpoint, a checkpoint that is unreadable or of another run), so a job is refused before it is recorded."""
    run, _, path, _ = _checkpoint_of(store, run_id)
    check_training_state(load_checkpoint(path), run["config"], path)


def load_trained(store: RunStore, run_id: str) -> TrainedRun:
    """The run's latest checkpoint as a model in eval mode, with its data and structure (cached per checkpoint)."""
    run, ckpt, path, stamp = _checkpoint_of(store, run_id)
    key = (str(store.root.resolve()), run_id, str(path), stamp)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        state = check_training_state(load_checkpoint(path), run["config"], path)
        config = dict(state["config"])
        data = _data(config)
        model = create_model(config["model"], data.num_classes, data.in_channels, data.image_size)
        try:
            model.load_state_dict(state["model"])
        except RuntimeError as e:
            raise CheckpointError(f"{path} does not fit model {config['model']!r}: "
                                  f"{str(e).splitlines()[0][:200]}") from e
        model.eval()
        as_trained(model, config, state.get("penalty"))
        trained = TrainedRun(run_id, config, dict(ckpt), model, data, analyse(model, data.input_shape),
                             state.get("penalty"))
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = trained
        return trained
