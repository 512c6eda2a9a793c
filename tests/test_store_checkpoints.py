"""Checkpoint files (`slimcore.store.checkpoints`): written atomically, loaded without running any code, refused with
a message that says what the file is."""
import os
import pickle

import pytest
import torch

from slimcore.errors import CheckpointError
from slimcore.store import load_checkpoint, save_checkpoint
from slimcore.store.checkpoints import TRAIN_FORMAT, check_training_state, remove_stale_temps


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    save_checkpoint({"w": torch.ones(3)}, path)

    def full_disk(obj, f, *a, **k):
        f.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(CheckpointError, match="previous checkpoint is kept"):
        save_checkpoint({"w": torch.zeros(3)}, path)
    monkeypatch.undo()
    assert torch.equal(load_checkpoint(path)["w"], torch.ones(3))
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


@pytest.mark.parametrize("content", [b"garbage bytes", b""])
def test_bad_checkpoint_files_are_refused(tmp_path, content):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="not a valid slimcore checkpoint"):
        load_checkpoint(path)


def test_pickle_that_runs_code_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        pickle.dump({"model": _Exploit()}, f)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert not (tmp_path / "pwned").exists()


def test_truncated_checkpoint_is_refused(tmp_path):
    path = tmp_path / "ckpt.pt"
    save_checkpoint({"w": torch.randn(1000)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


def test_a_training_checkpoint_must_be_of_the_run_that_reads_it(tmp_path):
    state = {"format": TRAIN_FORMAT, "config": {"model": "slimnet", "dataset": "digits"}, "model": {}}
    run = {"model": "slimnet", "dataset": "digits", "lr": 0.1}
    assert check_training_state(state, run, "last.pt") is state
    with pytest.raises(CheckpointError, match="last.pt is a checkpoint of dataset 'digits', but the run uses "
                                              "'mnist5k': it belongs to another run"):
        check_training_state(state, {**run, "dataset": "mnist5k"}, "last.pt")
    for bad in ({**state, "format": "slimcore-pruned-model"}, {**state, "config": None}, {**state, "model": []}):
        with pytest.raises(CheckpointError, match="last.pt is not a slimcore training checkpoint"):
            check_training_state(bad, run, "last.pt")


def test_paths_that_are_no_file_are_refused_by_what_they_are(tmp_path):
    with pytest.raises(CheckpointError, match="^no checkpoint file given"):
        load_checkpoint(" ")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "absent.pt")
    with pytest.raises(CheckpointError, match="is not a file"):
        load_checkpoint(tmp_path)
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="expected a dictionary of tensors"):
        load_checkpoint(tmp_path / "list.pt")


def test_only_the_temp_files_of_that_checkpoint_are_removed(tmp_path):
    mine = [tmp_path / "last.pt.a1b2.tmp", tmp_path / "last.pt.zz.tmp"]
    others = [tmp_path / "best.pt.a1b2.tmp", tmp_path / "last.pt", tmp_path / "last.pt.tmp.keep"]
    for p in mine + others:
        p.write_text("x")
    assert sorted(remove_stale_temps(tmp_path / "last.pt")) == sorted(mine)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in others)
