"""Data sets: sizes, determinism, disjoint splits, CIFAR from hand-written files, image folders, augmentation."""
from __future__ import annotations

import pickle
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import slimcore.data.cifar as cifar_module
from slimcore.data import DATASETS, DataSplits, list_datasets, load_dataset
from slimcore.data.augment import random_crop_flip
from slimcore.errors import ConfigError, DataError


def _all(dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """Every (x, y) of a dataset stacked, through a DataLoader as the trainer would."""
    xs, ys = zip(*DataLoader(dataset, batch_size=512))
    return torch.cat(xs), torch.cat([torch.as_tensor(y) for y in ys])


def _row_ids(x: torch.Tensor) -> set[bytes]:
    return {row.numpy().tobytes() for row in x}


def test_registry_lists_every_dataset() -> None:
    assert set(list_datasets()) == {"mnist5k", "digits", "cifar10", "cifar100", "imagefolder", "synthetic"}
    with pytest.raises(ConfigError, match="mnist5k"):
        load_dataset("mnist")


@pytest.mark.parametrize("name,sizes,shape", [
    ("mnist5k", (4000, 500, 500), (1, 28, 28)),
    ("digits", (1257, 270, 270), (1, 8, 8)),
])
def test_embedded_sets_sizes_determinism_disjoint(name: str, sizes: tuple, shape: tuple) -> None:
    a, b = load_dataset(name, seed=3), load_dataset(name, seed=3)
    assert isinstance(a, DataSplits) and a.augment is None
    assert (len(a.train), len(a.val), len(a.test)) == sizes
    assert a.input_shape == shape and a.num_classes == 10 and a.class_names == [str(d) for d in range(10)]
    x, y = a.train[0]
    assert x.dtype == torch.float32 and x.shape == shape and 0 <= int(y) < 10
    for split in ("train", "val", "test"):
        for ta, tb in zip(getattr(a, split).tensors, getattr(b, split).tensors):
            assert torch.equal(ta, tb)
    ids = [_row_ids(getattr(a, s).tensors[0]) for s in ("train", "val", "test")]
    # Disjoint as sets of images; a few duplicated images in the source could collide, so allow none here.
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])
    other = load_dataset(name, seed=4)
    assert not torch.equal(other.val.tensors[1], a.val.tensors[1])


def test_mnist5k_is_normalised() -> None:
    x = load_dataset("mnist5k").train.tensors[0]
    assert abs(x.mean().item()) < 0.1 and 0.9 < x.std().item() < 1.1


def test_unknown_option_is_config_error() -> None:
    with pytest.raises(ConfigError, match="image_size"):
        load_dataset("digits", image_size=16)


# --- CIFAR from tiny files in the real python-pickle format ---------------------------------------------

def _pickle(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)


def _batch(n: int, label_key: str, num_classes: int, rng: np.random.Generator) -> dict:
    pixels = rng.integers(0, 256, (n, 3072), dtype=np.uint8)  # rows are R, G, B planes of 32×32, as in the real files
    return {"data": pixels, label_key: rng.integers(0, num_classes, n).tolist()}


def _write_cifar10(root: Path, per_batch: int = 20, test: int = 15) -> None:
    rng = np.random.default_rng(0)
    folder = root / "cifar-10-batches-py"
    for i in range(1, 6):
        _pickle(folder / f"data_batch_{i}", _batch(per_batch, "labels", 10, rng))
    _pickle(folder / "test_batch", _batch(test, "labels", 10, rng))
    _pickle(folder / "batches.meta", {"label_names": [f"class{i}" for i in range(10)]})


def _write_cifar100(root: Path, train: int = 50, test: int = 10) -> None:
    rng = np.random.default_rng(1)
    folder = root / "cifar-100-python"
    _pickle(folder / "train", _batch(train, "fine_labels", 100, rng))
    _pickle(folder / "test", _batch(test, "fine_labels", 100, rng))
    _pickle(folder / "meta", {"fine_label_names": [f"fine{i}" for i in range(100)]})


@pytest.fixture
def no_network(monkeypatch):
    """Any download attempt fails as it would offline, and is recorded."""
    calls = []

    def fail(*args, **kwargs):
        calls.append(args)
        raise URLError("no network")

    monkeypatch.setattr(cifar_module, "download_and_extract_archive", fail)
    return calls


def test_cifar10_from_tiny_files(tmp_path: Path, no_network) -> None:
    _write_cifar10(tmp_path)
    splits = load_dataset("cifar10", root=tmp_path, seed=0)
    assert not no_network
    assert (len(splits.train), len(splits.val), len(splits.test)) == (90, 10, 15)
    assert splits.input_shape == (3, 32, 32) and splits.num_classes == 10 and splits.class_names[3] == "class3"
    x, y = _all(splits.train)
    assert x.dtype == torch.float32 and x.shape == (90, 3, 32, 32) and y.dtype == torch.long
    assert -3 < x.min() and x.max() < 3  # normalised, not 0..255
    assert torch.equal(x[0], splits.train[0][0])  # the batched path matches the per-item one
    again = load_dataset("cifar10", root=tmp_path, seed=0)
    assert torch.equal(again.val.images, splits.val.images)
    assert len(_row_ids(splits.train.images) & _row_ids(splits.val.images)) == 0
    assert splits.augment is not None


def test_cifar100_from_tiny_files(tmp_path: Path, no_network) -> None:
    _write_cifar100(tmp_path)
    splits = load_dataset("cifar100", root=tmp_path)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (45, 5, 10)
    assert splits.num_classes == 100 and splits.class_names[99] == "fine99"


@pytest.mark.parametrize("name,folder,archive", [
    ("cifar10", "cifar-10-batches-py", "cifar-10-python.tar.gz"),
    ("cifar100", "cifar-100-python", "cifar-100-python.tar.gz"),
])
def test_cifar_offline_error_says_where_to_put_files(tmp_path: Path, no_network, name, folder, archive) -> None:
    with pytest.raises(DataError) as info:
        load_dataset(name, root=tmp_path)
    message = str(info.value)
    assert no_network, "the download should have been attempted"
    assert "\n" not in message and str(tmp_path / folder) in message and str(tmp_path / archive) in message


def test_cifar_archive_in_root_is_unpacked(tmp_path: Path, no_network) -> None:
    import tarfile

    _write_cifar10(tmp_path / "src")
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "src" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    assert len(load_dataset("cifar10", root=tmp_path).train) == 90 and not no_network
    (tmp_path / "cifar-100-python.tar.gz").write_bytes(b"truncated")
    with pytest.raises(DataError, match="cannot unpack"):
        load_dataset("cifar100", root=tmp_path)


def test_cifar_default_root_from_env(tmp_path: Path, monkeypatch, no_network) -> None:
    _write_cifar10(tmp_path)
    monkeypatch.setenv("SLIMCORE_DATA", str(tmp_path))
    assert len(load_dataset("cifar10").test) == 15


def test_cifar_garbage_files_are_data_error(tmp_path: Path, no_network) -> None:
    _write_cifar10(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"not a pickle")
    with pytest.raises(DataError, match="CIFAR python format"):
        load_dataset("cifar10", root=tmp_path)


# --- image folders ------------------------------------------------------------------------------------

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
    with pytest.raises(DataError, match="no folder"):
        load_dataset("imagefolder", root=tmp_path / "missing")
    with pytest.raises(DataError, match="expected"):
        load_dataset("imagefolder", root=tmp_path)  # exists but empty
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "notes.txt").write_text("no images here")
    with pytest.raises(DataError, match="no images"):
        load_dataset("imagefolder", root=tmp_path)
    for i in range(3):
        (tmp_path / "cat" / f"broken{i}.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"cannot read image .*broken\d\.png"):
        load_dataset("imagefolder", root=tmp_path)


# --- augmentation -------------------------------------------------------------------------------------

def test_crop_flip_is_deterministic_and_keeps_shape() -> None:
    batch = torch.randn(16, 3, 32, 32)
    a = random_crop_flip(batch, torch.Generator().manual_seed(7))
    b = random_crop_flip(batch, torch.Generator().manual_seed(7))
    c = random_crop_flip(batch, torch.Generator().manual_seed(8))
    assert a.shape == batch.shape and torch.equal(a, b) and not torch.equal(a, c)
    state = torch.get_rng_state()
    random_crop_flip(batch, torch.Generator().manual_seed(7))
    assert torch.equal(state, torch.get_rng_state()), "must not touch the global RNG"


def test_crop_flip_moves_pixels_as_a_crop_or_mirror() -> None:
    batch = torch.arange(2 * 1 * 6 * 6, dtype=torch.float32).view(2, 1, 6, 6) + 1
    out = random_crop_flip(batch, torch.Generator().manual_seed(0), padding=0)
    for original, augmented in zip(batch, out):  # no padding: each sample is itself or its mirror
        assert torch.equal(augmented, original) or torch.equal(augmented, original.flip(2))
    padded = random_crop_flip(batch, torch.Generator().manual_seed(1), padding=2)
    for original, augmented in zip(batch, padded):  # every non-zero pixel comes from the same sample
        values = set(augmented[augmented != 0].tolist())
        assert values <= set(original.flatten().tolist())


def test_crop_flip_matches_a_reference_loop() -> None:
    batch = torch.randn(5, 2, 7, 9)
    out = random_crop_flip(batch, torch.Generator().manual_seed(3), padding=3)
    g = torch.Generator().manual_seed(3)
    top, left = torch.randint(0, 7, (5,), generator=g), torch.randint(0, 7, (5,), generator=g)
    flip = torch.rand(5, generator=g) < 0.5
    padded = torch.nn.functional.pad(batch, (3, 3, 3, 3))
    for i in range(5):
        expected = padded[i, :, top[i]:top[i] + 7, left[i]:left[i] + 9]
        assert torch.equal(out[i], expected.flip(2) if flip[i] else expected)


def test_registered_loaders_have_help() -> None:
    assert all(DATASETS.describe(n) for n in DATASETS.names())


def test_synthetic_data_has_cifar_shapes_and_is_seeded():
    from slimcore.data import load_dataset

    a, b = load_dataset("synthetic", seed=1, train_size=50), load_dataset("synthetic", seed=1, train_size=50)
    x, y = a.train[0]
    assert x.shape == (3, 32, 32) and a.input_shape == (3, 32, 32) and a.num_classes == 10 and 0 <= int(y) < 10
    assert len(a.train) == 50 and torch.equal(a.train.tensors[0], b.train.tensors[0])


@pytest.mark.parametrize("name", ["mnist5k", "digits", "synthetic"])
def test_a_data_folder_given_to_a_built_in_data_set_is_refused_not_ignored(name, tmp_path):
    with pytest.raises(ConfigError, match="reads no data folder.*imagefolder"):
        load_dataset(name, root=tmp_path)
