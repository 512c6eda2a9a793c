"""LeGR: the search runs, reports progress, can be stopped, and stores α/κ that then rank every threshold."""
from __future__ import annotations

import pytest

from slimcore.errors import ConfigError
from slimcore.pruning import LegrSettings, get_curve, preview_at, search_legr
from slimcore.pruning.search import stored_legr
from slimcore.pruning.trained import load_trained

from conftest import train_l1_digits

TINY = LegrSettings(population=3, sample=2, generations=3, steps=3)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_l1_digits(tmp_path_factory.mktemp("runs"))


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


def test_bad_search_parameters_are_refused():
    with pytest.raises(ConfigError, match="LeGR population must be an integer >= 1, got 0"):
        LegrSettings(population=0)
    with pytest.raises(ConfigError, match="sample .4. cannot exceed the population .3."):
        LegrSettings(population=3, sample=4)
    with pytest.raises(ConfigError, match="unknown setting.s. mutation"):
        LegrSettings.from_dict({"mutation": "big"})
