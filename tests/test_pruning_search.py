"""LeGR's search on a trained run (`slimcore.pruning.search`): the search runs, reports progress, can be stopped, and
stores α/κ that then rank every threshold; a stored search of an older checkpoint is not used."""
from __future__ import annotations

import pytest

from slimcore.errors import ConfigError
from slimcore.pruning import LegrSettings, get_curve, preview_at, search_legr
from slimcore.pruning.search import checkpoint_key, stored_legr
from slimcore.pruning.trained import load_trained
from slimcore.store import RunStore
from slimcore.store.files import write_json

TINY = LegrSettings(population=3, sample=2, generations=3, steps=3)


@pytest.fixture
def trained(digits_run):
    return digits_run


def test_legr_ranking_without_a_search_says_how_to_get_one(trained):
    from slimcore.pruning.math.rankings import RANKINGS

    store, run_id = trained
    t = load_trained(store, run_id)
    with pytest.raises(ConfigError, match="rank RUN --ranking legr"):
        RANKINGS.get("legr")().scores(t.model, t.structure.groups, None)


def test_search_reports_progress_and_stores_alpha_kappa(trained):
    store, run_id = trained
    calls = []
    result = search_legr(store, run_id, TINY, progress=lambda d, t, m: calls.append((d, t, m)))
    assert [c[0] for c in calls] == list(range(1, 7)) and all(c[1] == 6 for c in calls)
    assert result["complete"] and result["evaluated"] == 6
    n = len(load_trained(store, run_id).structure.groups)
    assert len(result["alpha"]) == len(result["kappa"]) == n and min(result["kappa"]) == 0
    assert all(a > 0 for a in result["alpha"]) and result["fitness"] >= result["identity_fitness"]
    stored = stored_legr(store, run_id)
    assert stored["alpha"] == result["alpha"] and stored["search_id"] == result["search_id"]

    # the stored ranking serves every threshold without searching again
    curve = get_curve(store, run_id, "legr", points=8, progress=lambda d, t, m: calls.append(m))
    assert len(curve["points"]) == 8 and not any("LeGR" in str(m) for m in calls[6:])
    assert preview_at(store, run_id, "legr", flops_ratio=0.5)["flops_ratio"] <= 0.5


def test_search_can_be_stopped_and_keeps_the_best_so_far(trained):
    store, run_id = trained
    seen = []
    result = search_legr(store, run_id, TINY, progress=lambda d, t, m: seen.append(d),
                         should_stop=lambda: len(seen) >= 2)
    assert result["stopped"] and not result["complete"] and result["evaluated"] == 2
    assert stored_legr(store, run_id)["search_id"] == result["search_id"]
    nothing = search_legr(store, run_id, TINY, should_stop=lambda: True)
    assert nothing["evaluated"] == 0 and "alpha" not in nothing
    assert stored_legr(store, run_id)["search_id"] == result["search_id"]  # the earlier result is kept


def test_a_stored_search_counts_only_for_the_checkpoint_it_was_made_from(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run({})
    assert checkpoint_key(store, run_id) is None and stored_legr(store, run_id) is None
    store.add_checkpoint(run_id, 10, 1.0, tmp_path / "last.pt")
    key = checkpoint_key(store, run_id)
    assert key == {"checkpoint": str(tmp_path / "last.pt"), "step": 10}
    path = write_json(tmp_path / "legr.json", {"alpha": [1.0], "kappa": [0.0], "checkpoint": key})
    store.put_artifact(run_id, "legr", "ranking", str(path))
    assert stored_legr(store, run_id)["alpha"] == [1.0]
    store.add_checkpoint(run_id, 20, 2.0, tmp_path / "last.pt")  # training went on: the search is stale
    assert stored_legr(store, run_id) is None


def test_candidates_are_scored_on_held_out_training_images_never_on_val(trained, monkeypatch):
    """The curve reports val accuracy; the search must not have tuned on val (Chin et al. tune on held-out data)."""
    import importlib

    finetune = importlib.import_module("slimcore.pruning.finetune")
    evaluation = importlib.import_module("slimcore.training.evaluate")  # the package re-exports a function by that name

    store, run_id = trained
    data = load_trained(store, run_id).data
    scored, tuned = [], []
    real_evaluate, real_steps = evaluation.evaluate, finetune.train_steps
    monkeypatch.setattr(evaluation, "evaluate", lambda model, ds, *a, **k: (scored.append(ds), real_evaluate(
        model, ds, *a, **k))[1])
    monkeypatch.setattr(finetune, "train_steps", lambda model, d, *a, **k: (tuned.append(d.train), real_steps(
        model, d, *a, **k))[1])
    result = search_legr(store, run_id, LegrSettings(population=2, sample=1, generations=1, steps=2, held_out=0.2))
    n, held = len(data.train), -(-len(data.train) * 2 // 10)
    assert len(scored) == len(tuned) == 3 and all(ds is not data.val for ds in scored)
    assert all(list(ds.indices) == list(range(n - held, n)) and ds.dataset is data.train for ds in scored)
    assert all(list(ds.indices) == list(range(n - held)) for ds in tuned)  # the fine-tuning never sees them
    assert result["scored_on"] == f"{held} held-out training images"


def test_held_out_share_is_validated():
    with pytest.raises(ConfigError, match="held_out must be a share in"):
        LegrSettings(held_out=1.0)
