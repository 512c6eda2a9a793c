import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slimcore.config import TrainConfig
from slimcore.errors import ConfigError
from slimcore.penalties import PENALTIES


def test_defaults_validate_and_round_trip_through_json():
    cfg = TrainConfig()
    again = TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg


@pytest.mark.parametrize("field, value, message", [
    ("model", "resnet9000", "unknown model 'resnet9000'."),
    ("dataset", "imagenet-22k", "unknown dataset 'imagenet-22k'. Valid datasets: "),
    ("penalty", "l3", "unknown penalty 'l3'. Valid penalties: "),
    ("model", "", "model must be a non-empty name"),
    ("lam", -1e-4, "lam must be >= 0"),
    ("lam", math.nan, "lam must be a finite number"),
    ("lam", math.inf, "lam must be a finite number"),
    ("epochs", 0, "epochs must be >= 1"),
    ("epochs", 1.5, "epochs must be a whole number"),
    ("lr", 0.0, "lr must be > 0"),
    ("lr", math.nan, "lr must be a finite number"),
    ("batch_size", 0, "batch_size must be >= 1"),
    ("schedule", "linear", "unknown schedule 'linear'; valid: cosine, step, constant"),
    ("device", "tpu", "unknown device 'tpu'"),
    ("seed", -1, "seed must be >= 0"),
    ("momentum", 1.5, "momentum must be <="),
    ("amp", "yes", "amp must be true or false"),
    ("lam", "0.1", "lam must be a number"),
])
def test_bad_values_fail_with_a_message_naming_the_field(field, value, message):
    with pytest.raises(ConfigError) as error:
        TrainConfig(**{field: value})
    assert str(error.value).startswith(message) and field in str(error.value) and "\n" not in str(error.value)


def test_unknown_setting_is_an_error_not_ignored():
    with pytest.raises(ConfigError, match="unknown setting"):
        TrainConfig.from_dict({"modle": "slimnet"})


def test_bad_penalty_parameter_is_reported():
    with pytest.raises(ConfigError, match=r"^penalty 'lp': p must be a number in \(0, 1\), got 1\.5\.$"):
        TrainConfig(penalty="lp", penalty_params={"p": 1.5})


def test_default_config_trains_as_before_tl1_proximal():
    cfg = TrainConfig()
    assert (cfg.penalty, cfg.lam, cfg.penalty_params) == ("tl1", 0.01, {"a": 1.0, "mode": "proximal"})


@pytest.mark.parametrize("penalty", PENALTIES.names())
def test_a_penalty_without_lam_takes_its_default_lam_and_every_parameter_is_recorded(penalty):
    cls = PENALTIES.get(penalty)
    cfg = TrainConfig(penalty=penalty)
    assert cfg.lam == cls.default_lam
    assert cfg.penalty_params == {p.name: p.default for p in cls.parameters if p.default is not None}
    assert TrainConfig(penalty=penalty, lam=0.0).lam == 0.0  # an explicit λ, even 0, is kept
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_ista_rho_is_its_lam():
    cfg = TrainConfig(penalty="ista", penalty_params={"rho": 0.02})
    assert cfg.lam == cfg.build_penalty().lam == 0.02


def test_configs_stored_before_penalties_declared_their_parameters_still_load_as_they_trained():
    old = TrainConfig().to_dict()
    # `slimcore train --penalty l1`: only the given flags were stored, and l1's first mode was subgradient
    l1 = TrainConfig.from_dict({**old, "penalty": "l1", "lam": 1e-4, "penalty_params": {}})
    assert l1.lam == 1e-4 and l1.build_penalty().mode == "subgradient"
    # the Train page gave `none` a mode it ignored
    none = TrainConfig.from_dict({**old, "penalty": "none", "lam": 0.0, "penalty_params": {"mode": "subgradient"}})
    assert none.penalty_params == {}
    tpp = TrainConfig.from_dict({**old, "penalty": "tpp", "lam": 1e-4, "penalty_params": {"ratio": 0.3}})
    assert tpp.lam == 1e-4 and tpp.penalty_params["ratio"] == 0.3 and tpp.penalty_params["lam_max"] == 1.0
    assert TrainConfig.from_dict(old) == TrainConfig()


_values = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=12), st.lists(st.integers(), max_size=2))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*TrainConfig.__dataclass_fields__, "bogus"]), _values, max_size=5))
def test_any_config_either_validates_or_raises_our_error(values):
    try:
        config = TrainConfig.from_dict(values)
    except ConfigError as e:
        assert str(e) and "\n" not in str(e), repr(str(e))  # one line a user can read
        return
    assert TrainConfig.from_dict(config.to_dict()) == config  # what validates is stored and read back unchanged
