"""imagefolder (`slimcore.data.imagefolder`): class sub-folders of images resized to a square, split 80/10/10 or by
train/ val/ test/ folders, and errors that name the folder or file and the layout expected."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from slimcore.data import load_dataset
from slimcore.errors import ConfigError, DataError


def _write_pngs(folder: Path, classes: dict[str, int], size: tuple[int, int] = (12, 10)) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    for cls, count in classes.items():
        (folder / cls).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(folder / cls / f"{i}.png")


def test_imagefolder_flat_split(tmp_path: Path) -> None:
    _write_pngs(tmp_path, {"cat": 6, "dog": 4})
    splits = load_dataset("imagefolder", root=tmp_path, image_size=16)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (8, 1, 1)
    assert splits.class_names == ["cat", "dog"] and splits.input_shape == (3, 16, 16)
    x, y = splits.train[0]
    assert x.shape == (3, 16, 16) and x.dtype == torch.float32 and y in (0, 1)
    again = load_dataset("imagefolder", root=tmp_path, image_size=16)
    assert splits.val.indices == again.val.indices and torch.equal(again.train[0][0], x)


def test_imagefolder_presplit(tmp_path: Path) -> None:
    _write_pngs(tmp_path / "train", {"a": 5, "b": 5})
    _write_pngs(tmp_path / "test", {"a": 1, "b": 2})
    splits = load_dataset("imagefolder", root=tmp_path)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (9, 1, 3)
    assert splits.input_shape == (3, 32, 32)
    _write_pngs(tmp_path / "val", {"a": 1, "c": 1})
    with pytest.raises(DataError, match="same class"):
        load_dataset("imagefolder", root=tmp_path)


def test_imagefolder_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--data-root"):
        load_dataset("imagefolder")
    with pytest.raises(DataError, match="^no folder at .*missing; expected <root>/<class>/<images>"):
        load_dataset("imagefolder", root=tmp_path / "missing")
    with pytest.raises(DataError, match="^no images found in .*; expected <root>/<class>/<images> or <root>/train/"):
        load_dataset("imagefolder", root=tmp_path)  # exists but empty
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "notes.txt").write_text("no images here")
    with pytest.raises(DataError, match="^no images found in .*cat"):
        load_dataset("imagefolder", root=tmp_path)
    for i in range(3):
        (tmp_path / "cat" / f"broken{i}.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"cannot read image .*broken\d\.png"):
        load_dataset("imagefolder", root=tmp_path)


def test_too_few_images_and_a_bad_image_size_are_refused(tmp_path: Path) -> None:
    _write_pngs(tmp_path / "flat", {"a": 1, "b": 1})
    with pytest.raises(DataError, match="has 2 image.s.; need at least 3 to split"):
        load_dataset("imagefolder", root=tmp_path / "flat")
    _write_pngs(tmp_path / "split" / "train", {"a": 1})
    with pytest.raises(DataError, match="has 1 image.s., too few to hold out val/test; add val/ and test/ folders"):
        load_dataset("imagefolder", root=tmp_path / "split")
    for size in (0, 2.5, True):
        with pytest.raises(ConfigError, match=f"image_size must be a positive integer, got {size!r}"):
            load_dataset("imagefolder", root=tmp_path / "flat", image_size=size)
