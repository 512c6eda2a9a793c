"""Settings of the pruning jobs (`slimcore.pruning.settings`): each is checked when built (one ConfigError per bad
value, naming the setting and what is allowed) and survives its JSON round trip exactly, ±inf thresholds and nested
fine-tuning settings included."""
from __future__ import annotations

import json
import math

import pytest

from slimcore.errors import ConfigError
from slimcore.pruning.settings import CurveSettings, FineTuneSettings, LegrSettings, PruneSettings


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
], ids=repr)
def test_every_setting_survives_the_json_round_trip(settings):
    again = through_json(settings)
    assert again == settings and type(again.to_dict()) is dict


def test_infinite_thresholds_travel_as_text_and_fine_tuning_nests_as_an_object():
    stored = PruneSettings(threshold=math.inf, finetune=FineTuneSettings(epochs=2)).to_dict()
    assert stored["threshold"] == "inf" and stored["finetune"] == {"epochs": 2, "lr": 0.01, "schedule": "cosine",
                                                                   "device": "auto"}
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
                                          r"recompute\.$"):
        CurveSettings.from_dict({"size": 1, "colour": "red"})


def test_replace_checks_the_new_values_and_candidates_counts_the_search():
    curve = CurveSettings(points=5)
    assert curve.replace(points=9) == CurveSettings(points=9) and curve.points == 5
    with pytest.raises(ConfigError, match="points must be"):
        curve.replace(points=0)
    assert LegrSettings(population=7, generations=11).candidates == 18
