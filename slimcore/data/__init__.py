"""Data sets: `load_dataset(name, root, seed)` returns deterministic train/val/test splits as DataSplits."""
from slimcore.data.factory import DATASETS, default_root, list_datasets, load_dataset, loader_problem
from slimcore.data.splits import DataSplits

# Importing a data-set file registers its loader.
from slimcore.data import cifar, digits, imagefolder, mnist, synthetic  # noqa: F401,E402

# Then installed packages' data sets: entry points of the group `slimcore.datasets`, each a callable
# (root: Path | None, seed: int, **options) -> DataSplits.
ENTRY_POINT_GROUP = "slimcore.datasets"


DATASETS.load_entry_points(ENTRY_POINT_GROUP, loader_problem)

__all__ = ["DATASETS", "ENTRY_POINT_GROUP", "DataSplits", "default_root", "list_datasets", "load_dataset"]
