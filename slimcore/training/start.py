"""A run's model at step 0: built, given its starting weights, and checked once for what pruning can do with it."""
from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from slimcore.config import TrainConfig
from slimcore.data import DataSplits


@dataclass
class StartingModel:
    model: nn.Module
    notes: list[str] = field(default_factory=list)  # what a user should hear of (a replaced head, an unprunable model)
    unprunable: str | None = None  # why pruning cannot handle the model (None: it can)


def starting_model(config: TrainConfig, data: DataSplits, initial_weights: bool = True) -> StartingModel:
    """The run's model with its starting weights (`--init-from`, `--pretrained`; left out when resuming, whose
    weights come from the checkpoint and whose starting file may be gone)."""
    from slimcore.analysis.structure import why_unprunable
    from slimcore.models import create_model
    from slimcore.models.weights import starting_weights

    model = create_model(config.model, data.num_classes, data.in_channels, data.image_size)
    notes = starting_weights(model, config.model, config.init_from, config.pretrained) if initial_weights else []
    unprunable = why_unprunable(model, data.input_shape, config.model)
    if unprunable:
        notes.append(f"this model cannot be pruned ({unprunable}); it trains all the same")
    return StartingModel(model, notes, unprunable)
