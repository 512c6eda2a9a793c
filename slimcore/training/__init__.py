"""The training engine: a loop that emits events, and observers that record them."""
from slimcore.training.events import Observer, StepInfo, EpochInfo, Snapshot
from slimcore.training.evaluate import evaluate
from slimcore.training.trainer import Trainer

__all__ = ["Observer", "StepInfo", "EpochInfo", "Snapshot", "Trainer", "evaluate"]
