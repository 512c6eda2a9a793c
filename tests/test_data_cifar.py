"""CIFAR-10 / CIFAR-100 (`slimcore.data.cifar`) from hand-written files in the real python-pickle format: sizes,
normalisation, a held-out val split, unpacking an archive, and offline errors that say where to put the files."""
from __future__ import annotations

import pickle
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import slimcore.data.cifar as cifar_module
from slimcore.data import load_dataset
from slimcore.errors import DataError


def _all(dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """Every (x, y) of a dataset stacked, through a DataLoader as the trainer would."""
    xs, ys = zip(*DataLoader(dataset, batch_size=512))
    return torch.cat(xs), torch.cat([torch.as_tensor(y) for y in ys])


def _row_ids(x: torch.Tensor) -> set[bytes]:
    return {row.numpy().tobytes() for row in x}


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
