"""Following a job from outside its process (`slimcore.jobs.follow`): the time it has left, and a feed that reads
only the rows written since the last look."""
from __future__ import annotations

import numpy as np
import pytest

from slimcore.jobs import follow
from slimcore.jobs.follow import RunFeed
from slimcore.store import RunStore


def test_time_left_extrapolates_progress():
    from slimcore.jobs.follow import format_seconds, seconds_left

    assert seconds_left(0.25, 30.0) == pytest.approx(90.0)
    assert seconds_left(0.5, 10.0, start_progress=0.25) == pytest.approx(20.0)
    assert seconds_left(0.0, 10.0) is None
    assert format_seconds(3725) == "1 h 02 min" and format_seconds(65) == "1 min 05 s" and format_seconds(4) == "4 s"


def test_a_feed_reads_only_new_rows_on_each_update(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    run_id = store.create_run({"epochs": 2})
    run = store.get_run(run_id)
    feed = RunFeed(run_id, pid=None)
    asked = []
    real_snapshots, real_metrics = store.snapshots, store.metrics
    monkeypatch.setattr(store, "snapshots", lambda rid, **kw: asked.append(("snapshots", kw)) or real_snapshots(rid, **kw))
    monkeypatch.setattr(store, "metrics", lambda rid, **kw: asked.append(("metrics", kw)) or real_metrics(rid, **kw))

    for step in (5, 10):
        store.add_snapshot(run_id, step, step / 10, False, np.full(2, step, np.float32), np.zeros(2, np.float32))
        store.log_metrics(run_id, step, step / 10, {"train_loss": 1.0 / step})
    feed.update(store, run)
    assert [s["step"] for s in feed.snapshots] == [5, 10] and feed.metrics["train_loss"]["step"] == [5, 10]
    assert asked == [("snapshots", {"since_step": -1}), ("metrics", {"since_step": -2})]

    asked.clear()
    store.add_snapshot(run_id, 15, 1.5, False, np.full(2, 15, np.float32), np.zeros(2, np.float32))
    store.log_metrics(run_id, 10, 1.0, {"val_accuracy": 0.5})  # an epoch's validation, at its last batch's step
    store.log_metrics(run_id, 15, 1.5, {"train_loss": 0.1})
    feed.update(store, run)
    assert asked == [("snapshots", {"since_step": 10}), ("metrics", {"since_step": 9})]
    assert [s["step"] for s in feed.snapshots] == [5, 10, 15]
    assert feed.metrics["train_loss"] == {"step": [5, 10, 15], "epoch": [0.5, 1.0, 1.5], "value": [0.2, 0.1, 0.1]}
    assert feed.metrics["val_accuracy"]["step"] == [10]  # read once although step 10 was read again
    feed.update(store, run)
    assert feed.metrics["train_loss"]["step"] == [5, 10, 15] and len(feed.snapshots) == 3  # nothing new, nothing added


def test_a_long_history_is_thinned_keeping_the_newest_half_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(follow, "MAX_SNAPSHOTS", 10)
    store = RunStore(tmp_path)
    run_id = store.create_run({})
    feed = RunFeed(run_id, pid=None)
    for step in range(12):
        store.add_snapshot(run_id, step, 0.0, False, np.zeros(1, np.float32), np.zeros(1, np.float32))
    feed.update(store, store.get_run(run_id))
    assert [s["step"] for s in feed.snapshots] == [0, 2, 4, 6, 7, 8, 9, 10, 11]


def test_time_left_uses_the_pace_seen_then_the_epoch_timings_then_the_run_age(tmp_path, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(follow.time, "time", lambda: now[0])
    store = RunStore(tmp_path)
    run_id = store.create_run({})
    run = {"status": "starting", "progress": 0.2, "created": 900.0, "config": {"epochs": 4}}
    feed = RunFeed(run_id, pid=None)
    feed.update(store, run)
    assert feed.anchor is None  # not running yet: no pace to measure
    assert feed.time_left(run) == pytest.approx(100.0 * 0.8 / 0.2)  # from the run's creation: 100 s for 20 %
    feed.metrics["epoch_seconds"] = {"step": [1, 2], "epoch": [1, 2], "value": [10.0, 30.0]}
    assert feed.time_left(run) == pytest.approx(0.8 * 4 * 20.0)  # 80 % of 4 epochs of 20 s each
    feed.update(store, {**run, "status": "running"})
    assert feed.anchor == (1000.0, 0.2)
    now[0] = 1001.0
    assert feed.time_left({**run, "progress": 0.3}) == pytest.approx(0.7 * 4 * 20.0)  # too soon to trust the pace
    now[0] = 1010.0
    assert feed.time_left({**run, "progress": 0.3}) == pytest.approx(10.0 * 0.7 / 0.1)  # 10 % in the last 10 s
