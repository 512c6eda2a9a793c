"""Data sets: `load_dataset(name, root, seed)` returns deterministic train/val/test splits as DataSplits."""
from slimcore.data.factory import DATASETS, default_root, list_datasets, load_dataset
from slimcore.data.splits import DataSplits

# Importing a data-set file registers its loader.
from slimcore.data import cifar, digits, imagefolder, mnist, synthetic  # noqa: F401,E402

__all__ = ["DATASETS", "DataSplits", "default_root", "list_datasets", "load_dataset"]
