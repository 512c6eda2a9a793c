"""What the pruning jobs left in the store, read back (`slimcore.pruning.results`): stored curves, the newest commit
that exported a model, whether a current LeGR search exists. Nothing is computed: stores written by hand."""
from __future__ import annotations

import itertools

from slimcore.pruning.math.rules import LayerRules
from slimcore.pruning.results import cached_curves, commit_matches, has_legr, latest_commit
from slimcore.pruning.settings import FineTuneSettings, PruneSettings
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


def _finished_commit(store, parent, tmp_path, report):
    run_id = store.create_run({}, kind="prune", parent=parent)
    store.set_status(run_id, "finished")
    store.put_artifact(run_id, "report.json", "report", str(write_json(tmp_path / f"{run_id}.json", report)))
    return run_id


def _report(ranking, flops_ratio, before, after, epochs_done, **more):
    return {"ranking": ranking, "flops_ratio": flops_ratio, "params": 100, "accuracy": after - 0.01,
            "val_accuracy": after, "before_finetune": {"val_accuracy": before, "test_accuracy": before},
            "finetune": {"epochs_done": epochs_done, "distill": more.pop("distill", None)}, **more}


def test_fine_tuned_points_are_the_finished_fine_tuned_commits_of_a_ranking_by_flops(tmp_path):
    from slimcore.pruning.results import fine_tuned_points

    store = RunStore(tmp_path)
    parent, other = store.create_run({}), store.create_run({})
    assert fine_tuned_points(store, parent, "bn") == []
    one_shot = _finished_commit(store, parent, tmp_path, _report("bn", 0.5, 0.6, 0.9, 3))
    iterative = _finished_commit(store, parent, tmp_path, _report(
        "bn", 0.3, 0.7, 0.85, 1, distill={"temperature": 4.0}, steps=[{}, {}, {}], finetune_epochs_done=3))
    _finished_commit(store, parent, tmp_path, _report("bn", 0.4, 0.6, 0.6, 0))  # not fine-tuned
    _finished_commit(store, parent, tmp_path, _report("l1norm", 0.4, 0.5, 0.8, 2))  # another ranking
    _finished_commit(store, other, tmp_path, _report("bn", 0.4, 0.5, 0.8, 2))  # another run's
    store.set_status(_finished_commit(store, parent, tmp_path, _report("bn", 0.2, 0.5, 0.8, 2)), "stopped")
    assert fine_tuned_points(store, parent, "bn") == [
        {"prune_id": iterative, "ranking": "bn", "flops_ratio": 0.3, "params": 100, "accuracy_before": 0.7,
         "accuracy_after": 0.85, "test_accuracy": 0.84, "steps": 3, "distill": True, "epochs": 3},
        {"prune_id": one_shot, "ranking": "bn", "flops_ratio": 0.5, "params": 100, "accuracy_before": 0.6,
         "accuracy_after": 0.9, "test_accuracy": 0.89, "steps": 1, "distill": False, "epochs": 3},
    ]
    assert [p["ranking"] for p in fine_tuned_points(store, parent)] == ["bn", "l1norm", "bn"]


def test_a_commit_matches_only_settings_that_build_the_same_model():
    made = PruneSettings(ranking="bn", threshold=0.0125, finetune=FineTuneSettings(epochs=2, lr=0.01))
    config = made.to_dict()
    assert commit_matches(config, made)
    # where it ran and how often latency was timed change nothing in the model
    assert commit_matches(config, made.replace(latency_repeats=3, finetune=made.finetune.replace(device="cpu")))
    for other in (made.replace(ranking="l1norm"), made.replace(threshold=0.0126),
                  made.replace(threshold=None, flops_ratio=0.5), made.replace(min_channels=2),
                  made.replace(finetune=made.finetune.replace(epochs=0)),
                  made.replace(finetune=made.finetune.replace(lr=0.02)),
                  made.replace(finetune=made.finetune.replace(schedule="constant")),
                  made.replace(finetune=made.finetune.replace(distill=True)),
                  made.replace(rules=LayerRules(round_to=8)), made.replace(rules=LayerRules(locked=("c1",)))):
        assert not commit_matches(config, other), other
    assert not commit_matches({"ranking": "bn", "threshold": "oops"}, made)
    assert not commit_matches({}, made)  # no cut recorded
