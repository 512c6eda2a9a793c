"""JSON files next to a run (`slimcore.store.files`): written whole or not at all, strict JSON, and read back as
None (a cache miss) when missing or broken."""
from __future__ import annotations

import json
import math
import os

import pytest

from slimcore.errors import StoreError
from slimcore.store.files import read_json, write_json


def test_write_then_read_is_the_value_with_non_finite_numbers_as_null(tmp_path):
    path = write_json(tmp_path / "deep" / "er" / "curve.json", {"points": [1.5, math.nan], "max": math.inf, "n": 3})
    assert path == tmp_path / "deep" / "er" / "curve.json"
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == read_json(path) == {"points": [1.5, None], "max": None, "n": 3}
    assert os.listdir(path.parent) == ["curve.json"]  # the temp file was renamed, not left


def test_a_failed_write_keeps_the_old_file_whole(tmp_path, monkeypatch):
    path = write_json(tmp_path / "a.json", {"v": 1})
    monkeypatch.setattr("slimcore.store.files.os.replace", lambda *a: (_ for _ in ()).throw(OSError(28, "No space")))
    with pytest.raises(StoreError, match=f"could not write {path}: No space; choose a writable folder"):
        write_json(path, {"v": 2})
    assert read_json(path) == {"v": 1}


def test_missing_or_broken_files_read_as_none(tmp_path):
    assert read_json(tmp_path / "absent.json") is None
    (tmp_path / "half.json").write_text('{"points": [1, 2')
    assert read_json(tmp_path / "half.json") is None
    assert read_json(tmp_path) is None  # a folder
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="could not write"):
        write_json(blocker / "sub" / "a.json", {})


def test_a_failed_write_leaves_no_temp_file(tmp_path, monkeypatch):
    write_json(tmp_path / "a.json", {"v": 1})
    monkeypatch.setattr("slimcore.store.files.os.replace", lambda *a: (_ for _ in ()).throw(OSError(28, "No space")))
    with pytest.raises(StoreError):
        write_json(tmp_path / "a.json", {"v": 2})
    assert os.listdir(tmp_path) == ["a.json"]
