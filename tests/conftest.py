"""Shared fixtures: an isolated run store per test and a tiny, fast training config."""
from __future__ import annotations

import pytest


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    d = tmp_path / "runs"
    monkeypatch.setenv("SLIMCORE_RUNS_DIR", str(d))
    return d


@pytest.fixture
def tiny_config():
    """slimnet on the 8×8 digits: a whole epoch takes well under a second."""
    from slimcore.config import TrainConfig

    return TrainConfig(model="slimnet", dataset="digits", epochs=2, batch_size=64, lr=0.05,
                       snapshot_every=5, penalty="l1", lam=1e-3, penalty_params={"mode": "subgradient"})
