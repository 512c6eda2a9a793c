"""CIFAR-10 / CIFAR-100 through torchvision, held in memory as uint8, with a clear error when offline."""
from __future__ import annotations

import pickle
import tarfile
from pathlib import Path

import torch
from torchvision.datasets import CIFAR10, CIFAR100
from torchvision.datasets.utils import download_and_extract_archive, extract_archive

from slimcore.data.augment import random_crop_flip
from slimcore.data.factory import DATASETS, default_root
from slimcore.data.splits import DataSplits, split_indices
from slimcore.data.tensors import NormalizedImages
from slimcore.errors import DataError

CIFAR10_MEAN, CIFAR10_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
CIFAR100_MEAN, CIFAR100_STD = (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)
VAL_SIZE = 5000  # held out of the official 50,000 training images
VAL_FRACTION = 0.1  # for smaller (test) files, where 5,000 would not fit


def _expected_files(cls: type, root: str | Path) -> list[Path]:
    """The batch and meta files torchvision's CIFAR class `cls` reads under root."""
    names = [f for f, _ in cls.train_list + cls.test_list] + [cls.meta["filename"]]
    return [Path(root) / cls.base_folder / name for name in names]


class _TrustPresentFiles:
    """Accept CIFAR files that are already in place without their MD5, so hand-made or re-packed files load."""

    def _check_integrity(self) -> bool:
        return all(f.is_file() for f in _expected_files(type(self), self.root))

    def _load_meta(self) -> None:
        with open(Path(self.root) / self.base_folder / self.meta["filename"], "rb") as f:
            self.classes = pickle.load(f, encoding="latin1")[self.meta["key"]]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def download(self) -> None:
        # torchvision's, but an archive already in root is unpacked without its MD5, and the download goes
        # through this module's name so tests can stub the network out.
        archive = Path(self.root) / self.filename
        if not self._check_integrity() and archive.is_file():
            try:
                extract_archive(str(archive), str(self.root))
            except (tarfile.TarError, EOFError, OSError) as e:
                raise DataError(f"cannot unpack {archive} ({e}); delete it or replace it with an intact copy.") from e
        if not self._check_integrity():
            download_and_extract_archive(self.url, self.root, filename=self.filename, md5=self.tgz_md5)


class _CIFAR10(_TrustPresentFiles, CIFAR10):
    pass


class _CIFAR100(_TrustPresentFiles, CIFAR100):
    pass


def _load(name: str, cls: type, root: Path | None, seed: int, mean: tuple, std: tuple) -> DataSplits:
    root = root or default_root()
    folder, archive = root / cls.base_folder, root / cls.filename
    try:
        official_train = cls(str(root), train=True, download=True)
        official_test = cls(str(root), train=False)
    except (OSError, RuntimeError) as e:  # URLError is an OSError; torchvision raises RuntimeError on bad MD5
        reason = " ".join(str(e).split()) or type(e).__name__
        if all(f.is_file() for f in _expected_files(cls, root)):
            raise DataError(f"cannot read the {name} files in {folder}/ ({reason}); check their permissions.") from e
        raise DataError(
            f"{name} is not under {root} and could not be downloaded ({reason}); put the extracted "
            f"folder at {folder}/ or the archive at {archive} (or set --data-root / $SLIMCORE_DATA)."
        ) from e
    except (pickle.UnpicklingError, EOFError, KeyError, ValueError, TypeError, IndexError) as e:
        raise DataError(
            f"the files in {folder}/ are not in the CIFAR python format ({type(e).__name__}: {e}); "
            f"delete the folder to download it again, or replace it with the one from {cls.filename}."
        ) from e

    def as_tensors(dataset: CIFAR10) -> tuple[torch.Tensor, torch.Tensor]:
        images = torch.from_numpy(dataset.data).permute(0, 3, 1, 2).contiguous()  # N×H×W×C → N×C×H×W
        return images, torch.tensor(dataset.targets, dtype=torch.long)

    images, labels = as_tensors(official_train)
    test_images, test_labels = as_tensors(official_test)
    n_val = min(VAL_SIZE, max(1, round(VAL_FRACTION * len(images))))
    train, val, _ = split_indices(len(images), n_val, 0, seed)
    return DataSplits(
        name=name,
        train=NormalizedImages(images[train], labels[train], mean, std),
        val=NormalizedImages(images[val], labels[val], mean, std),
        test=NormalizedImages(test_images, test_labels, mean, std),
        num_classes=len(official_train.classes),
        in_channels=3,
        image_size=32,
        class_names=list(official_train.classes),
        augment=random_crop_flip,
    )


@DATASETS.register("cifar10", help="CIFAR-10 (downloaded once to --data-root or $SLIMCORE_DATA)")
def load_cifar10(root: Path | None, seed: int) -> DataSplits:
    """CIFAR-10: 45,000 train / 5,000 val held out of train / the official 10,000 test."""
    return _load("cifar10", _CIFAR10, root, seed, CIFAR10_MEAN, CIFAR10_STD)


@DATASETS.register("cifar100", help="CIFAR-100 (downloaded once to --data-root or $SLIMCORE_DATA)")
def load_cifar100(root: Path | None, seed: int) -> DataSplits:
    """CIFAR-100 (fine labels): 45,000 train / 5,000 val held out of train / the official 10,000 test."""
    return _load("cifar100", _CIFAR100, root, seed, CIFAR100_MEAN, CIFAR100_STD)
