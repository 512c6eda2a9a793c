"""Settings of the pruning jobs (`slimcore.pruning.settings`): each is checked when built (one ConfigError per bad
value, naming the setting and what is allowed) and survives its JSON round trip exactly, ±inf thresholds and nested
fine-tuning settings included."""
from __future__ import annotations

import json
import math

import pytest

from slimcore.errors import ConfigError
from slimcore.pruning.math.rules import LayerRules
from slimcore.pruning.settings import (SENSITIVITY_SHARES, CurveSettings, FineTuneSettings, LegrSettings, PruneSettings,
                                       SensitivitySettings)

RULES = LayerRules(locked=("features.1",), max_removed={"features.4": 0.5}, min_width={"features.8": 3}, round_to=8)


def test_legr_parameters_are_checked():
    assert LegrSettings().population >= LegrSettings().sample
    for bad in ({"population": 0}, {"sample": 9, "population": 3}, {"lr": -1}, {"flops_ratio": 2},
                {"colour": 1}, {"steps": 1.5}):
        with pytest.raises(ConfigError):
            LegrSettings.from_dict(bad)


def test_bad_search_parameters_are_refused():
    with pytest.raises(ConfigError, match="LeGR population must be an integer >= 1, got 0"):
        LegrSettings(population=0)
    with pytest.raises(ConfigError, match="sample .4. cannot exceed the population .3."):
        LegrSettings(population=3, sample=4)
    with pytest.raises(ConfigError, match="unknown setting.s. mutation"):
        LegrSettings.from_dict({"mutation": "big"})


def through_json(settings):
    """The settings as a job stores and reads them back: strict JSON (no NaN/inf tokens) in between."""
    return type(settings).from_dict(json.loads(json.dumps(settings.to_dict(), allow_nan=False)))


@pytest.mark.parametrize("settings", [
    CurveSettings(), CurveSettings(ranking="l1norm", points=7, min_channels=2, recompute=True),
    LegrSettings(), LegrSettings(flops_ratio=0.3, population=5, sample=5, generations=0, steps=0, lr=0.5, sigma=2.0,
                                 seed=9, min_channels=3),
    FineTuneSettings(), FineTuneSettings(epochs=3, lr=0.2, schedule="step", device="cpu"),
    PruneSettings(threshold=0.25), PruneSettings(threshold=math.inf), PruneSettings(threshold=-math.inf),
    PruneSettings(flops_ratio=0.5, ranking="legr", min_channels=2, out_dir="out/dir", latency_repeats=3,
                  finetune=FineTuneSettings(epochs=2, lr=0.05)),
    PruneSettings(flops_ratio=0.3, steps=4, finetune=FineTuneSettings(epochs=1, distill=True, distill_temperature=2.5,
                                                                      distill_weight=0.0, keep_penalty=True)),
    CurveSettings(rules=RULES), PruneSettings(threshold=0.1, rules=RULES),
    SensitivitySettings(), SensitivitySettings(ranking="l1norm", shares=(0.25, 0.5), recompute=True),
], ids=repr)
def test_every_setting_survives_the_json_round_trip(settings):
    again = through_json(settings)
    assert again == settings and type(again.to_dict()) is dict


def test_infinite_thresholds_travel_as_text_and_fine_tuning_nests_as_an_object():
    stored = PruneSettings(threshold=math.inf, finetune=FineTuneSettings(epochs=2)).to_dict()
    assert stored["threshold"] == "inf" and stored["finetune"] == {
        "epochs": 2, "lr": 0.01, "schedule": "cosine", "device": "auto", "distill": False, "distill_temperature": 4.0,
        "distill_weight": 0.9, "keep_penalty": False}
    built = PruneSettings.from_dict({"threshold": "-inf", "finetune": {"epochs": 1, "lr": 0.5}})
    assert built.threshold == -math.inf and built.finetune == FineTuneSettings(epochs=1, lr=0.5)


def test_a_text_setting_that_reads_inf_stays_text():
    assert through_json(PruneSettings(threshold=0.1, out_dir="inf")).out_dir == "inf"


@pytest.mark.parametrize("cls, values, message", [
    (CurveSettings, {"points": 0}, "points must be an integer in 1..1000, got 0."),
    (CurveSettings, {"points": 1001}, "points must be an integer in 1..1000, got 1001."),
    (CurveSettings, {"ranking": "gamma"}, "unknown ranking 'gamma'. Valid rankings: bn, bn-mean, bn-sum, l1norm, legr, tpp."),
    (CurveSettings, {"min_channels": 0}, "min_channels must be an integer >= 1 (no layer may lose every channel), got 0."),
    (CurveSettings, {"recompute": 1}, "recompute must be true or false."),
    (LegrSettings, {"steps": -1}, "LeGR steps must be an integer >= 0, got -1."),
    (LegrSettings, {"lr": 0}, "LeGR lr must be a number > 0, got 0."),
    (LegrSettings, {"sigma": math.inf}, "LeGR sigma must be a number > 0, got inf."),
    (LegrSettings, {"batch_size": 0}, "LeGR batch_size must be an integer >= 1, got 0."),
    (LegrSettings, {"seed": 1.5}, "LeGR seed must be an integer >= 0, got 1.5."),
    (LegrSettings, {"flops_ratio": 0}, "flops ratio must be in (0, 1] (the share of FLOPs to keep, 1 = unpruned), got 0."),
    (FineTuneSettings, {"epochs": -1}, "fine-tuning epochs must be an integer in 0..10000, got -1."),
    (FineTuneSettings, {"epochs": True}, "fine-tuning epochs must be an integer in 0..10000, got True."),
    (FineTuneSettings, {"lr": math.nan}, "fine-tuning learning rate must be a number in (0, 10], got nan."),
    (FineTuneSettings, {"schedule": "linear"}, "unknown fine-tuning schedule 'linear'; valid: cosine, step, constant."),
    (FineTuneSettings, {"device": "tpu"}, "unknown device 'tpu'; valid: auto, cpu, cuda, mps, or cuda:N for GPU number N."),
    (PruneSettings, {"threshold": 0.1, "latency_repeats": 0}, "latency repeats must be an integer in 1..10000, got 0."),
    (PruneSettings, {"threshold": 0.1, "finetune": 3}, "finetune must be fine-tuning settings (epochs, lr, schedule, device)."),
    (PruneSettings, {"threshold": 0.1, "finetune": {"epochs": 1.5}}, "fine-tuning epochs must be an integer in 0..10000, got 1.5."),
    (PruneSettings, {"threshold": 0.1, "out_dir": " "}, "the output folder (--out) is empty; give a folder, or leave it out"),
    (PruneSettings, {}, "give exactly one of a threshold (--threshold) or a FLOPs ratio to keep (--flops-ratio)."),
    (PruneSettings, {"threshold": 0.1, "rules": {"round_to": 0}}, "--round-to must be an integer in 1..4096"),
    (PruneSettings, {"threshold": 0.1, "rules": 8}, "rules must be per-layer rules (locked, max_removed, min_width, "
                                                    "round_to), got 8."),
    (CurveSettings, {"rules": {"max_removed": {"features.4": 1}}}, "--max-removed features.4: the share of channels"),
    (SensitivitySettings, {"shares": []}, "shares must be 1 to 99 numbers in (0, 1)"),
    (SensitivitySettings, {"shares": [0.5, 1.0]}, "shares must be 1 to 99 numbers in (0, 1)"),
    (SensitivitySettings, {"shares": "0.5"}, "shares must be 1 to 99 numbers in (0, 1)"),
    (SensitivitySettings, {"ranking": "gamma"}, "unknown ranking 'gamma'."),
])
def test_a_bad_value_is_one_error_that_names_the_setting(cls, values, message):
    with pytest.raises(ConfigError) as error:
        cls(**values)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)
    with pytest.raises(ConfigError) as again:
        cls.from_dict(values)  # the same check when a stored job is read back
    assert str(again.value) == str(error.value)


def test_from_dict_refuses_what_is_not_a_settings_object():
    with pytest.raises(ConfigError, match="^CurveSettings must be built from a JSON object of settings.$"):
        CurveSettings.from_dict([("points", 3)])
    with pytest.raises(ConfigError, match=r"^unknown setting\(s\) colour, size; valid: min_channels, points, ranking, "
                                          r"recompute, rules\.$"):
        CurveSettings.from_dict({"size": 1, "colour": "red"})


def test_replace_checks_the_new_values_and_candidates_counts_the_search():
    curve = CurveSettings(points=5)
    assert curve.replace(points=9) == CurveSettings(points=9) and curve.points == 5
    with pytest.raises(ConfigError, match="points must be"):
        curve.replace(points=0)
    assert LegrSettings(population=7, generations=11).candidates == 18


def test_rules_nest_as_an_object_and_shares_are_sorted_without_repeats():
    stored = PruneSettings(threshold=0.1, rules=RULES).to_dict()
    assert stored["rules"] == {"locked": ["features.1"], "max_removed": {"features.4": 0.5},
                               "min_width": {"features.8": 3}, "round_to": 8}
    assert PruneSettings(threshold=0.1).rules == LayerRules() and PruneSettings.from_dict(stored).rules == RULES
    assert SensitivitySettings(shares=[0.5, 0.1, 0.5]).shares == (0.1, 0.5)
    assert SensitivitySettings().shares == SENSITIVITY_SHARES == (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


ITERATIVE = {"flops_ratio": 0.5, "steps": 3, "finetune": {"epochs": 1}}


@pytest.mark.parametrize("values, message", [
    ({"epochs": 1, "distill": True, "distill_temperature": 0}, "the distillation temperature (--distill-temperature) "
                                                               "must be a number > 0, got 0."),
    ({"epochs": 1, "distill": True, "distill_temperature": math.nan}, "must be a number > 0, got nan."),
    ({"epochs": 1, "distill": True, "distill_weight": 1.5}, "the distillation weight (--distill-weight) must be a "
                                                            "number in [0, 1], the soft targets' share of the loss, "
                                                            "got 1.5."),
    ({"epochs": 1, "distill": True, "distill_weight": -0.1}, "must be a number in [0, 1]"),
    ({"epochs": 1, "distill": "yes"}, "distill must be true or false, got 'yes'."),
    ({"distill": True}, "--distill changes how the pruned model is fine-tuned, but there is no fine-tuning: give "
                        "--finetune-epochs N (N >= 1)."),
    ({"keep_penalty": True}, "--keep-penalty changes how the pruned model is fine-tuned, but there is no fine-tuning"),
])
def test_distillation_and_the_kept_penalty_are_checked(values, message):
    with pytest.raises(ConfigError) as error:
        FineTuneSettings.from_dict(values)
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("values, message", [
    ({**ITERATIVE, "steps": 0}, "steps (--steps) must be an integer in 1..100, got 0."),
    ({**ITERATIVE, "steps": 2.5}, "steps (--steps) must be an integer in 1..100, got 2.5."),
    ({**ITERATIVE, "steps": True}, "steps (--steps) must be an integer in 1..100, got True."),
    ({"threshold": 0.1, "steps": 3, "finetune": {"epochs": 1}}, "--steps K prunes toward a FLOPs target: give "
                                                                "--flops-ratio R instead of --threshold"),
    ({**ITERATIVE, "finetune": {}}, "--steps K re-ranks the channels on the model fine-tuned after each cut: give "
                                    "--finetune-epochs N"),
    ({**ITERATIVE, "ranking": "tpp"}, "the tpp ranking removes what the penalty chose during training, in one cut"),
    ({"flops_ratio": 0.5, "finetune": {"epochs": 1, "keep_penalty": True}}, "--keep-penalty keeps the sparsity "
                                                                            "penalty on between the cuts of an "
                                                                            "iterative prune: give --steps K"),
])
def test_iterative_pruning_is_checked(values, message):
    with pytest.raises(ConfigError) as error:
        PruneSettings.from_dict(values)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert PruneSettings.from_dict(ITERATIVE).steps == 3 and PruneSettings(threshold=0.1).steps == 1
