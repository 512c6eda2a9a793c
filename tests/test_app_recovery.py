"""The Prune page's commit form (issue 18) under AppTest: distillation and K cuts build the PruneSettings they say
(K > 1 aims at the shown plan's FLOPs share, not its threshold), a bad combination is one error line and starts
nothing; an iterative distilled commit made with the form's settings gets its card with the path on the Prune page,
and its cuts on the Runs page."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from slimcore.pruning.settings import PruneSettings

ROOT = Path(__file__).resolve().parents[1]


def prune_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).switch_page("pages/2_Prune.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def fill(at: AppTest, epochs: int = 1, steps: int = 1, distill: bool = False, temperature: float | None = None,
         weight: float | None = None, keep_penalty: bool = False) -> AppTest:
    """Types the commit form's values as a user would: the distillation fields once the box is ticked."""
    at.number_input(key="p:ft_epochs").set_value(epochs)
    at.number_input(key="p:steps").set_value(steps)
    at.checkbox(key="p:distill").set_value(distill)
    at.run()
    if temperature is not None:
        at.number_input(key="p:distill_t").set_value(temperature)
    if weight is not None:
        at.number_input(key="p:distill_w").set_value(weight)
    if keep_penalty:
        at.checkbox(key="p:keep_penalty").check()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


class Started:
    """Stands in for jobs.start: records the settings of each job the page asks for, starts none."""

    def __init__(self) -> None:
        self.settings: list[PruneSettings] = []

    def __call__(self, store, kind, settings, parent=None, **kwargs):
        assert kind == "prune"
        self.settings.append(settings)
        return "not-started"


def press_commit(at: AppTest, monkeypatch) -> Started:
    from slimcore import jobs

    started = Started()
    monkeypatch.setattr(jobs, "start", started)
    at.button(key="p:commit").click().run()
    assert not at.exception, [e.message for e in at.exception]
    return started


def shown_plan(at: AppTest) -> tuple[float, float]:
    """(threshold, FLOPs share) of the plan the threshold control shows."""
    from threshold_support import control_data

    from slimcore.pruning.browser_preview import PayloadPreview

    data = control_data(at)
    return float(data["selected"]["t"]), float(PayloadPreview(data["payload"]).flops_shares()[data["selected"]["i"]])


@pytest.fixture(scope="module")
def studio_dir(tmp_path_factory) -> tuple[Path, str]:
    """A store with one finished one-epoch ℓ1 run on the digits and its |γ| curve (the Prune page reads it)."""
    from conftest import train_l1_digits

    from slimcore.pruning import get_curve

    store, run_id = train_l1_digits(tmp_path_factory.mktemp("recovery") / "runs", epochs=1)
    get_curve(store, run_id, ranking="bn")
    return store.root, run_id


@pytest.fixture
def studio(studio_dir, monkeypatch):
    monkeypatch.setenv("SLIMCORE_RUNS_DIR", str(studio_dir[0]))
    return studio_dir


def test_distillation_on_builds_settings_that_distil_with_the_typed_temperature_and_weight(studio, monkeypatch):
    at = fill(prune_page(), epochs=2, distill=True, temperature=2.5, weight=0.7)
    threshold, _ = shown_plan(at)
    started = press_commit(at, monkeypatch)
    assert not at.error, [e.value for e in at.error]
    (settings,) = started.settings
    ft = settings.finetune
    assert (ft.epochs, ft.distill, ft.distill_temperature, ft.distill_weight) == (2, True, 2.5, 0.7)
    assert (settings.threshold, settings.flops_ratio, settings.steps) == (threshold, None, 1)


def test_distillation_off_ignores_the_distillation_fields(studio, monkeypatch):
    at = fill(prune_page(), epochs=1, distill=True, temperature=2.5)
    at.checkbox(key="p:distill").uncheck().run()
    assert at.number_input(key="p:distill_t").disabled
    (settings,) = press_commit(at, monkeypatch).settings
    assert not settings.finetune.distill and settings.finetune.distill_temperature == 4.0


def test_three_steps_aim_at_the_shown_plans_flops_share_instead_of_its_threshold(studio, monkeypatch):
    at = prune_page()
    assert at.checkbox(key="p:keep_penalty").disabled  # one cut: no fine-tunes between cuts
    at = fill(at, epochs=1, steps=3, keep_penalty=True)
    _, share = shown_plan(at)
    assert any(f"this threshold's FLOPs share, {share:.1%}" in c.value for c in at.caption), \
        [c.value for c in at.caption]
    (settings,) = press_commit(at, monkeypatch).settings
    assert (settings.threshold, settings.flops_ratio, settings.steps) == (None, share, 3)
    assert settings.finetune.keep_penalty and settings.finetune.epochs == 1


@pytest.mark.parametrize("values, message", [
    (dict(epochs=0, distill=True), "--distill changes how the pruned model is fine-tuned"),
    (dict(epochs=0, steps=3), "--steps K re-ranks the channels"),
    (dict(epochs=1, distill=True, temperature=0.0), "distillation temperature"),
])
def test_a_bad_combination_is_one_error_line_when_commit_is_pressed_and_starts_nothing(studio, monkeypatch, values,
                                                                                       message):
    from slimcore.store import RunStore

    at = fill(prune_page(), **values)
    assert not at.error, "the error is reported only when Commit is pressed"
    before = [r["id"] for r in RunStore(studio[0]).list_runs(kind="prune")]
    started = press_commit(at, monkeypatch)
    assert [e.value for e in at.error if message in e.value] and len(at.error) == 1, [e.value for e in at.error]
    assert "\n" not in at.error[0].value
    assert not started.settings
    assert [r["id"] for r in RunStore(studio[0]).list_runs(kind="prune")] == before


FORM = dict(epochs=1, steps=2, distill=True)


@pytest.fixture(scope="module")
def iterated(studio_dir):
    """A real 2-cut distilled commit (one fine-tuning epoch after each cut) of the settings the form builds for
    FORM, run here with the engine; (store root, run id, its report)."""
    from slimcore.pruning import commit
    from slimcore.store import RunStore

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SLIMCORE_RUNS_DIR", str(studio_dir[0]))
        (settings,) = press_commit(fill(prune_page(), **FORM), mp).settings
    report = commit(RunStore(studio_dir[0]), studio_dir[1], settings.replace(latency_repeats=2))
    assert len(report["steps"]) == 2
    return studio_dir[0], studio_dir[1], report


def test_the_card_of_an_iterative_commit_shows_its_path(iterated, monkeypatch):
    root, run_id, report = iterated
    monkeypatch.setenv("SLIMCORE_RUNS_DIR", str(root))
    at = fill(prune_page(), **FORM)
    text = "\n".join(str(m.value) for m in [*at.markdown, *at.caption])
    assert f"**Pruned model** `{report['run_id']}`" in text and "2 cuts toward" in text, text
    assert "distilled from the unpruned model (T 4, W 0.9)" in text
    assert not any("No model has been built with these settings" in i.value for i in at.info)
    path = [d.value for d in at.dataframe if "val acc fine-tuned" in d.value.columns]
    assert len(path) == 1 and path[0]["step"].tolist() == [1, 2]
    assert path[0]["FLOPs"].tolist() == [s["flops_ratio"] for s in report["steps"]]
    assert path[0]["val acc after cut"].tolist() == [s["before_finetune"]["val_accuracy"] for s in report["steps"]]
    # another number of cuts is another commit: the card folds away
    at.number_input(key="p:steps").set_value(3).run()
    assert any("No model has been built with these settings" in i.value for i in at.info)


def test_the_runs_page_says_how_each_commit_recovered_and_shows_an_iterative_ones_cuts(iterated, monkeypatch):
    root, run_id, report = iterated
    monkeypatch.setenv("SLIMCORE_RUNS_DIR", str(root))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).switch_page("pages/3_Runs.py").run()
    assert not at.exception, [e.message for e in at.exception]
    commits = next(d.value for d in at.dataframe if "cuts" in d.value.columns)
    row = commits[commits["run"] == report["run_id"]].iloc[0]
    assert (row["cuts"], row["fine-tune epochs"], row["distilled"]) == (2, 1, "T 4 · W 0.9")
    paths = [e for e in at.expander if report["run_id"] in e.label]
    assert len(paths) == 1 and "2 of 2 cuts" in paths[0].label
    table = next(d.value for d in paths[0].dataframe)
    assert table["step"].tolist() == [1, 2]
    assert table["val acc fine-tuned"].tolist() == [s["val_accuracy"] for s in report["steps"]]
    assert paths[0].get("plotly_chart")
