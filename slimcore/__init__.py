"""slimcore: train CNNs toward sparse BN γ, rank every channel globally, preview and commit real pruning."""
from slimcore.errors import (
    CheckpointError,
    ConfigError,
    DataError,
    SlimcoreError,
    StoreError,
    TrainingDiverged,
)
from slimcore.pruning.loader import load_pruned  # noqa: F401 (public API)

__version__ = "0.1.0"

__all__ = [
    "CheckpointError",
    "ConfigError",
    "DataError",
    "SlimcoreError",
    "StoreError",
    "TrainingDiverged",
    "__version__",
]
