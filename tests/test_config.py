import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slimcore.config import TrainConfig
from slimcore.errors import ConfigError


def test_defaults_validate_and_round_trip_through_json():
    cfg = TrainConfig()
    again = TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg


@pytest.mark.parametrize("field, value, message", [
    ("model", "resnet9000", "Valid models: "),
    ("dataset", "imagenet-22k", "Valid datasets: "),
    ("penalty", "l3", "Valid penalties|Valid penaltys"),
    ("model", "", "non-empty"),
    ("lam", -1e-4, "lam must be >= 0"),
    ("lam", math.nan, "finite"),
    ("lam", math.inf, "finite"),
    ("epochs", 0, "epochs must be >= 1"),
    ("epochs", 1.5, "whole number"),
    ("lr", 0.0, "lr must be > 0"),
    ("lr", math.nan, "finite"),
    ("batch_size", 0, "batch_size must be >= 1"),
    ("schedule", "linear", "unknown schedule"),
    ("device", "tpu", "unknown device"),
    ("seed", -1, "seed must be >= 0"),
    ("momentum", 1.5, "momentum must be <="),
    ("amp", "yes", "true or false"),
    ("lam", "0.1", "must be a number"),
])
def test_bad_values_fail_with_a_message_naming_the_field(field, value, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**{field: value})


def test_unknown_setting_is_an_error_not_ignored():
    with pytest.raises(ConfigError, match="unknown setting"):
        TrainConfig.from_dict({"modle": "slimnet"})


def test_bad_penalty_parameter_is_reported():
    with pytest.raises(ConfigError):
        TrainConfig(penalty="lp", penalty_params={"p": 1.5})


_values = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=12), st.lists(st.integers(), max_size=2))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*TrainConfig.__dataclass_fields__, "bogus"]), _values, max_size=5))
def test_any_config_either_validates_or_raises_our_error(values):
    try:
        TrainConfig.from_dict(values)
    except ConfigError:
        pass
