"""The pruning jobs (`slimcore.jobs.pruning`) on the session's digits run: each is refused before it is recorded when
its parent cannot be pruned, is labelled after the parent's model, and leaves its result where the engine reads it."""
from __future__ import annotations

import pytest

from slimcore import jobs
from slimcore.errors import StoreError
from slimcore.pruning.settings import CurveSettings, LegrSettings, PruneSettings


def test_a_job_on_a_run_that_cannot_be_pruned_is_refused_before_it_is_recorded(digits_run):
    store, run_id = digits_run
    curve_id = jobs.create(store, "curve", CurveSettings(points=2), parent=run_id)
    before = [r["id"] for r in store.list_runs()]
    for kind, settings in (("search", LegrSettings()), ("curve", CurveSettings()), ("prune", PruneSettings(threshold=0))):
        with pytest.raises(StoreError, match=f"run {curve_id} is a curve run; rank, preview and prune work on "
                                             "training runs"):
            jobs.create(store, kind, settings, parent=curve_id)
    assert [r["id"] for r in store.list_runs()] == before


def test_labels_name_the_parent_model_and_what_the_job_does(digits_run):
    store, run_id = digits_run
    made = {kind: jobs.create(store, kind, settings, parent=run_id) for kind, settings in (
        ("search", LegrSettings()), ("curve", CurveSettings(ranking="l1norm")), ("prune", PruneSettings(threshold=0)))}
    assert "-slimnet-legr-search-" in made["search"] and "-slimnet-l1norm-curve-" in made["curve"]
    assert "-slimnet-bn-pruned-" in made["prune"]


def test_a_curve_job_reports_its_points_then_reads_the_stored_curve_back(digits_run):
    store, run_id = digits_run
    first = jobs.create(store, "curve", CurveSettings(points=3, min_channels=4, recompute=True), parent=run_id)
    status, message = jobs.run_here(store, first)
    summary = store.get_run(first)["summary"]
    assert (status, summary["points"], summary["cached"]) == ("finished", 3, False)
    assert message == f"3 points in {summary['seconds']} s"
    again = jobs.create(store, "curve", CurveSettings(points=3, min_channels=4), parent=run_id)
    assert jobs.run_here(store, again) == ("finished", "read back from the store")
    assert store.get_run(again)["summary"]["cached"] is True


def test_a_search_stopped_before_its_first_candidate_says_nothing_was_stored(digits_run):
    store, run_id = digits_run
    job_id = jobs.create(store, "search", LegrSettings(population=2, sample=1, generations=0, steps=1), parent=run_id)
    status, message = jobs.run_here(store, job_id, should_stop=lambda: True)
    assert (status, message) == ("stopped", "stopped before the first candidate; nothing was stored (an earlier "
                                            "search is kept).")
    assert jobs.view(store, job_id)["status"] == "stopped" and store.get_run(job_id)["summary"] == {}


def test_a_finished_search_summarises_its_fitness(digits_run):
    store, run_id = digits_run
    job_id = jobs.create(store, "search", LegrSettings(population=2, sample=1, generations=1, steps=1), parent=run_id)
    status, message = jobs.run_here(store, job_id)
    summary = store.get_run(job_id)["summary"]
    assert status == "finished" and (summary["evaluated"], summary["candidates"]) == (3, 3)
    assert message == (f"fitness {summary['fitness']:.4f} (identity map {summary['identity_fitness']:.4f}) after 3 of "
                       "3 candidates")
    assert store.artifact(run_id, "legr")["meta"]["search_id"] == summary["search_id"]


def test_a_sensitivity_job_is_labelled_and_refused_like_the_others(digits_run):
    from slimcore.pruning.settings import SensitivitySettings

    store, run_id = digits_run
    scan_id = jobs.create(store, "sensitivity", SensitivitySettings(ranking="l1norm"), parent=run_id)
    assert "-slimnet-l1norm-sensitivity-" in scan_id
    with pytest.raises(StoreError, match=f"run {scan_id} is a sensitivity run; rank, preview and prune work on"):
        jobs.create(store, "sensitivity", SensitivitySettings(), parent=scan_id)


def test_a_rule_naming_no_layer_is_refused_before_the_job_is_recorded(digits_run):
    from slimcore.errors import ConfigError
    from slimcore.pruning.math.rules import LayerRules

    store, run_id = digits_run
    before = [r["id"] for r in store.list_runs()]
    bad = LayerRules(locked=("features.1", "classifier"))
    for kind, settings in (("curve", CurveSettings(rules=bad)), ("prune", PruneSettings(threshold=0.1, rules=bad))):
        with pytest.raises(ConfigError, match="^--lock classifier: no channel group or BN layer of that name; valid: "
                                              r"group \(its BN layers\): features.0 \(features.1\), "):
            jobs.create(store, kind, settings, parent=run_id)
    assert [r["id"] for r in store.list_runs()] == before
    jobs.create(store, "curve", CurveSettings(rules=LayerRules(locked=("features.1",))), parent=run_id)  # a BN's name
