"""Uploaded weights kept in the store: once per content, under a name that is safe on disk."""
from __future__ import annotations

import pytest

from slimcore.errors import ConfigError
from slimcore.store import RunStore
from slimcore.store.uploads import save_upload


def test_an_upload_is_written_once_per_content(tmp_path):
    store = RunStore(tmp_path / "runs")
    a = save_upload(store, "my net (v2).pth", b"abc")
    assert a.read_bytes() == b"abc" and a.parent == store.root / "uploads"
    assert a.name.endswith("-my-net-v2.pt") and " " not in a.name
    assert save_upload(store, "other name.pt", b"abc").name.split("-")[0] == a.name.split("-")[0]
    assert save_upload(store, "my net (v2).pth", b"abd") != a
    assert not list(a.parent.glob("*.tmp"))


def test_an_empty_upload_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="empty"):
        save_upload(RunStore(tmp_path / "runs"), "x.pt", b"")
