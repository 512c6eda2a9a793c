"""What the pruning jobs left in the store, read back (`slimcore.pruning.results`): stored curves, the newest commit
that exported a model, whether a current LeGR search exists. Nothing is computed: stores written by hand."""
from __future__ import annotations

import itertools

from slimcore.pruning.results import cached_curves, has_legr, latest_commit
from slimcore.store import RunStore
from slimcore.store.files import write_json


def test_cached_curves_lists_each_stored_curve_with_points(tmp_path):
    store = RunStore(tmp_path)
    a, b = store.create_run({}, label="a"), store.create_run({}, label="b")
    points = [{"threshold": 0.1, "flops": 10}]
    store.put_artifact(a, "curve-bn-p50-m1", "curve", str(write_json(tmp_path / "a.json", {
        "ranking": "bn", "points": points, "base": {"flops": 20}})))
    store.put_artifact(a, "curve-l1norm-p50-m1", "curve", str(write_json(tmp_path / "empty.json", {"points": []})))
    store.put_artifact(b, "curve-legr-p50-m1", "curve", str(tmp_path / "missing.json"))
    store.put_artifact(b, "legr", "ranking", str(write_json(tmp_path / "legr.json", {"points": points})))
    assert cached_curves(store, [a, b]) == {f"{a} · bn": (points, {"flops": 20})}
    assert cached_curves(store, []) == {}


def _commit(store, parent, status, tmp_path, accuracy=None):
    run_id = store.create_run({}, kind="prune", parent=parent)
    store.set_status(run_id, status)
    if accuracy is not None:
        path = write_json(tmp_path / f"{run_id}.json", {"accuracy": accuracy})
        store.put_artifact(run_id, "report.json", "report", str(path))
    return run_id


def test_latest_commit_is_the_newest_that_exported_a_model(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    parent = store.create_run({})
    assert latest_commit(store, parent) is None
    clock = itertools.count(1000)
    monkeypatch.setattr("slimcore.store.runs.time.time", lambda: float(next(clock)))  # strictly increasing
    finished = _commit(store, parent, "finished", tmp_path, 0.9)
    stopped = _commit(store, parent, "stopped", tmp_path, 0.8)  # stopped in fine-tuning, its last epoch exported
    _commit(store, parent, "failed", tmp_path, 0.1)  # failed after writing a report: not a result
    _commit(store, parent, "finished", tmp_path)  # no report.json
    run, report = latest_commit(store, parent)
    assert run["id"] == stopped and report == {"accuracy": 0.8}
    store.set_status(stopped, "failed")
    assert latest_commit(store, parent)[0]["id"] == finished
    assert latest_commit(store, finished) is None  # commits are found by their parent


def test_has_legr_only_for_a_search_of_the_current_checkpoint(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run({})
    assert not has_legr(store, run_id)
    store.add_checkpoint(run_id, 3, 1.0, tmp_path / "last.pt")
    key = {"checkpoint": str(tmp_path / "last.pt"), "step": 3}
    store.put_artifact(run_id, "legr", "ranking", str(write_json(tmp_path / "legr.json", {"checkpoint": key})))
    assert has_legr(store, run_id)
    store.add_checkpoint(run_id, 4, 1.5, tmp_path / "last.pt")
    assert not has_legr(store, run_id)


def test_legr_learned_says_when_the_search_kept_the_identity_map(tmp_path):
    from slimcore.pruning.results import legr_learned

    store = RunStore(tmp_path)
    run_id = store.create_run({})
    assert legr_learned(store, run_id) is None
    store.add_checkpoint(run_id, 3, 1.0, tmp_path / "last.pt")
    key = {"checkpoint": str(tmp_path / "last.pt"), "step": 3}

    def stored(alpha, kappa, fitness, identity_fitness):
        path = write_json(tmp_path / "legr.json", {"checkpoint": key, "groups": ["a", "b"], "alpha": alpha,
                                                   "kappa": kappa, "fitness": fitness,
                                                   "identity_fitness": identity_fitness, "scored_on": "40 held-out"})
        store.put_artifact(run_id, "legr", "ranking", str(path))
        return legr_learned(store, run_id)

    same = stored([1.0, 1.0], [0.0, 0.0], 0.8, 0.8)
    assert same["identity"] and same["no_gain"] and same["scored_on"] == "40 held-out"
    learned = stored([1.3, 0.9], [0.0, 0.02], 0.9, 0.8)
    assert not learned["identity"] and not learned["no_gain"]
    assert learned["groups"] == [{"group": "a", "alpha": 1.3, "kappa": 0.0}, {"group": "b", "alpha": 0.9, "kappa": 0.02}]
