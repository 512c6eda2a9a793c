"""imagefolder: any folder of class sub-folders of images, resized to a fixed square size."""
from __future__ import annotations

import functools
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from torch.utils.data import Dataset, Subset
from torchvision import transforms
from torchvision.datasets import ImageFolder

from slimcore.data.augment import random_crop_flip
from slimcore.data.factory import DATASETS
from slimcore.data.splits import DataSplits, split_indices
from slimcore.errors import ConfigError, DataError

# ImageNet statistics: the conventional default for photographs of unknown origin.
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
HELD_OUT = 0.1  # val and test each, when the folder is not already split
LAYOUT = "<root>/<class>/<images> or <root>/train/<class>/<images> (with optional val/ and test/)"


def _read_rgb(path: str) -> Image.Image:
    """Open an image as RGB, naming the file when it cannot be read."""
    try:
        with open(path, "rb") as f:
            return Image.open(f).convert("RGB")
    except (OSError, UnidentifiedImageError) as e:
        raise DataError(f"cannot read image {path} ({e}); delete or replace the file.") from e


def _image_folder(folder: Path, image_size: int) -> ImageFolder:
    transform = transforms.Compose([
        transforms.Resize((image_size, image_size)),
        transforms.ToTensor(),
        transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])
    try:
        return ImageFolder(str(folder), transform=transform, loader=_read_rgb)
    except FileNotFoundError as e:  # torchvision's "no class folder" / "no valid file" cases
        raise DataError(f"no images found in {folder} ({e}); expected {LAYOUT}.") from e


def _split_folders(root: Path, image_size: int, seed: int) -> tuple[ImageFolder, Dataset, Dataset, Dataset]:
    """Use train/ (and val/, test/ when present); what is missing is held out of train/."""
    train_folder = _image_folder(root / "train", image_size)
    parts: dict[str, Dataset] = {}
    for part in ("val", "test"):
        if (root / part).is_dir():
            folder = _image_folder(root / part, image_size)
            if folder.classes != train_folder.classes:
                raise DataError(
                    f"{root / part} has classes {folder.classes} but {root / 'train'} has {train_folder.classes}; "
                    "give every split the same class sub-folders."
                )
            parts[part] = folder
    n = len(train_folder)
    n_val = 0 if "val" in parts else max(1, round(HELD_OUT * n))
    n_test = 0 if "test" in parts else max(1, round(HELD_OUT * n))
    if n - n_val - n_test < 1:
        raise DataError(
            f"{root / 'train'} has {n} image(s), too few to hold out val/test; "
            "add val/ and test/ folders or more images."
        )
    train, val, test = split_indices(n, n_val, n_test, seed)
    return (
        train_folder,
        Subset(train_folder, train.tolist()),
        parts["val"] if "val" in parts else Subset(train_folder, val.tolist()),
        parts["test"] if "test" in parts else Subset(train_folder, test.tolist()),
    )


@DATASETS.register("imagefolder", help="your own images: class sub-folders under --data-root")
def load_imagefolder(root: Path | None, seed: int, image_size: int = 32) -> DataSplits:
    """Class sub-folders of images (or train/ val/ test/ of them) resized to image_size²; 80/10/10 if not split."""
    if root is None:
        raise ConfigError(f"imagefolder needs a folder: pass --data-root PATH laid out as {LAYOUT}.")
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1:
        raise ConfigError(f"image_size must be a positive integer, got {image_size!r}.")
    if not root.is_dir():
        raise DataError(f"no folder at {root}; expected {LAYOUT}.")
    if (root / "train").is_dir():
        folder, train, val, test = _split_folders(root, image_size, seed)
    else:
        folder = _image_folder(root, image_size)
        n = len(folder)
        held = round(HELD_OUT * n)
        if n < 3:
            raise DataError(f"{root} has {n} image(s); need at least 3 to split into train/val/test.")
        train_idx, val_idx, test_idx = split_indices(n, max(1, held), max(1, held), seed)
        train, val, test = (Subset(folder, i.tolist()) for i in (train_idx, val_idx, test_idx))
    train[0]  # read one image now so an unreadable folder fails here, not mid-epoch
    return DataSplits(
        name="imagefolder",
        train=train,
        val=val,
        test=test,
        num_classes=len(folder.classes),
        in_channels=3,
        image_size=image_size,
        class_names=list(folder.classes),
        augment=functools.partial(random_crop_flip, padding=max(1, image_size // 8)),  # 4 px at 32, as for CIFAR
    )
