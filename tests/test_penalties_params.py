"""The declared parameters of a penalty (slimcore/penalties/params.py) and the faces generated from them: checks,
params(), the CLI's flags and help, the Train page's form."""
from __future__ import annotations

import contextlib
import io
import math
import re
from pathlib import Path

import pytest

from slimcore.cli.main import build_parser, main
from slimcore.cli.training import declared_parameters
from slimcore.config import TrainConfig
from slimcore.errors import ConfigError
from slimcore.penalties import PENALTIES, Penalty, get
from slimcore.penalties.params import Param

ROOT = Path(__file__).resolve().parents[1]
ALL_PARAMS = [(name, p) for name in PENALTIES.names() for p in PENALTIES.get(name).parameters]
IDS = [f"{name}.{p.name}" for name, p in ALL_PARAMS]


# -- Param ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("param, allowed", [
    (Param("p", float, 0.5, "", low=0, high=1, low_open=True, high_open=True), "a number in (0, 1)"),
    (Param("r", float, 0.5, "", low=0, high=1), "a number in [0, 1]"),
    (Param("a", float, 1.0, "", low=0, low_open=True), "a number > 0"),
    (Param("s", float, 0.0, "", low=0), "a number >= 0"),
    (Param("h", float, 0.0, "", high=2, high_open=True), "a number < 2"),
    (Param("n", int, 10, "", low=1), "an integer >= 1"),
    (Param("rho", float, None, "", low=0, optional=True), "a number >= 0 or none"),
    (Param("mode", str, "x", "", choices=("x", "y")), "one of x, y"),
])
def test_allowed_describes_the_range_in_words(param, allowed):
    assert param.allowed() == allowed


P = Param("p", float, 0.5, "", low=0, high=1, low_open=True, high_open=True)
N = Param("n", int, 10, "", low=1)


@pytest.mark.parametrize("value", [0.0, 1.0, 1.5, -0.1, math.nan, math.inf, True, "0.5", None, [0.5]])
def test_validate_refuses_with_one_line_naming_penalty_parameter_range_and_value(value):
    with pytest.raises(ConfigError) as e:
        P.validate(value, "lp")
    assert str(e.value) == f"penalty 'lp': p must be a number in (0, 1), got {value!r}."


def test_validate_returns_the_declared_type():
    assert P.validate(1e-9, "lp") == 1e-9 and type(P.validate(0.5, "lp")) is float
    assert N.validate(3.0, "tpp") == 3 and type(N.validate(3.0, "tpp")) is int
    for bad in (2.5, 0, True):
        with pytest.raises(ConfigError, match=r"n must be an integer >= 1, got"):
            N.validate(bad, "tpp")
    with pytest.raises(ConfigError, match="mode must be one of x, y, got 'z'"):
        Param("mode", str, "x", "", choices=("x", "y")).validate("z", "l1")


def test_parse_reads_command_line_text_and_reports_what_was_typed():
    assert P.parse(" 0.25 ", "lp") == 0.25 and N.parse("7", "tpp") == 7 and N.parse("1e1", "tpp") == 10
    assert Param("rho", float, None, "", low=0, optional=True).parse("none", "ista") is None
    for text in ("x", "", "1", "nan", "0x1"):
        with pytest.raises(ConfigError) as e:
            P.parse(text, "lp")
        assert str(e.value) == f"penalty 'lp': p must be a number in (0, 1), got {text!r}."
    with pytest.raises(ConfigError, match=r"got '2\.5'"):
        N.parse("2.5", "tpp")


# -- what every registered penalty declares ---------------------------------------------------------------
@pytest.mark.parametrize("name", PENALTIES.names())
def test_declared_defaults_validate_and_get_builds_with_them(name):
    cls = PENALTIES.get(name)
    names = [p.name for p in cls.parameters]
    assert len(names) == len(set(names)) and "lam" not in names
    pen = get(name)
    assert pen.lam == cls.default_lam >= 0
    for p in cls.parameters:
        assert p.validate(p.default, name) == getattr(pen, p.name)
        assert p.help, f"{name}.{p.name} has no help text"
    if "mode" in names:
        assert set(cls.parameter("mode").choices) <= {"subgradient", "proximal"}


@pytest.mark.parametrize("name, param", ALL_PARAMS, ids=IDS)
def test_a_value_outside_the_range_is_a_one_line_error_naming_the_parameter(name, param):
    outside = []
    if param.low is not None:
        outside.append(param.low if param.low_open else param.low - 1)
    if param.high is not None:
        outside.append(param.high if param.high_open else param.high + 1)
    if param.kind is not str:
        outside.append(math.nan)
    if param.choices:
        outside.append("no-such-" + param.name)
    assert outside, f"{name}.{param.name} accepts anything"
    for value in outside:
        with pytest.raises(ConfigError) as e:
            get(name, **{param.name: value})
        message = str(e.value)
        assert "\n" not in message
        assert message.startswith(f"penalty {name!r}: {param.name} must be {param.allowed()}, got "), message


@pytest.mark.parametrize("name", PENALTIES.names())
def test_params_round_trip_with_values_other_than_the_defaults(name):
    cls = PENALTIES.get(name)
    changed = {}
    for p in cls.parameters:
        if p.choices:
            changed[p.name] = p.choices[-1]
        elif p.kind is int:
            changed[p.name] = p.default + 1
        elif p.kind is float:
            changed[p.name] = (0.3 if p.high is not None else 2.0) if p.default is None else p.default * 0.6
    lam = 0.07 if name != "tpp" else 0.0  # tpp: λ may not pass lam_max
    pen = get(name, lam=lam, **changed)
    params = pen.params()
    assert get(name, **params).params() == params
    for key, value in changed.items():
        assert params[key] == value


# -- the CLI's flags ---------------------------------------------------------------------------------------
def _train_help() -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as e:
        main(["train", "--help"])
    assert e.value.code == 0
    return re.sub(r"\s+", " ", out.getvalue())


def _train_flags() -> set[str]:
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    return {s for a in train._actions for s in a.option_strings}


def test_cli_penalty_flags_are_the_union_of_the_declared_parameter_names():
    declared = {p.name for _, p in ALL_PARAMS}
    assert set(declared_parameters()) == declared
    flags = {"--" + n.replace("_", "-") for n in declared}
    # the names users script against
    assert {"--p", "--a", "--mode", "--alpha", "--gamma-lr", "--rho", "--ratio", "--lam-step", "--lam-every",
            "--lam-max", "--gram-weight"} == flags
    assert flags <= _train_flags()


def test_cli_help_gives_each_penalty_default_lam_and_each_flag_range_and_default():
    text = _train_help()
    lams = ", ".join(f"{n} {PENALTIES.get(n).default_lam:g}" for n in PENALTIES.names())
    assert f"default per penalty: {lams}" in text
    assert "lp: a number in (0, 1), default 0.5" in text
    assert "tpp: an integer >= 1, default 10" in text
    assert "l1, lp, tl1: one of subgradient, proximal, default proximal" in text


def test_the_cli_the_config_and_the_class_agree_on_default_lam_and_parameters():
    from slimcore.cli.training import config_from_args

    for name in PENALTIES.names():
        args = build_parser().parse_args(["train", "--penalty", name])
        assert config_from_args(args) == TrainConfig(penalty=name)
        assert config_from_args(args).lam == PENALTIES.get(name).default_lam


# -- a new penalty: one class, and every face offers its parameter ---------------------------------------
class Zeta(Penalty):
    """A throw-away penalty for the tests: one parameter, zeta."""

    name = "zetatest"
    parameters = (Param("zeta", float, 2.0, "how much zeta the test wants", low=0, high=10),)
    default_lam = 0.25


@pytest.fixture
def zeta(monkeypatch):
    """Zeta registered for this test only."""
    monkeypatch.setitem(PENALTIES._entries, Zeta.name, Zeta)
    monkeypatch.setitem(PENALTIES._help, Zeta.name, Zeta.describe())
    return Zeta


def test_a_new_parameter_appears_in_the_cli_help(zeta):
    text = _train_help()
    assert "--zeta ZETA how much zeta the test wants. zetatest: a number in [0, 10], default 2" in text
    assert "zetatest 0.25" in text  # its default λ


def test_a_new_parameter_appears_in_the_train_page_form(zeta, runs_dir):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).switch_page("pages/1_Train.py").run()
    at.selectbox(key="t:penalty").set_value("zetatest").run()
    assert not at.exception
    box = at.number_input(key="t:pp:zetatest:zeta")
    assert (box.label, box.value, box.min, box.max) == ("zeta", 2.0, 0.0, 10.0)
    assert box.help.startswith("how much zeta the test wants (a number in [0, 10]; default 2)")
    assert at.number_input(key="t:lam").value == 0.25


def test_a_new_parameter_out_of_range_is_refused_by_the_cli_in_one_line(zeta, tmp_path, capsys):
    runs = tmp_path / "runs"
    code = main(["train", "--penalty", "zetatest", "--zeta", "99", "--runs-dir", str(runs)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == "slimcore: error: penalty 'zetatest': zeta must be a number in [0, 10], got '99'.\n"
    assert not runs.exists()


def test_a_flag_the_chosen_penalty_lacks_names_its_own_parameters(zeta, tmp_path, capsys):
    code = main(["train", "--penalty", "zetatest", "--p", "0.5", "--runs-dir", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 2
    assert err == "slimcore: error: penalty 'zetatest' has no parameter 'p' (--p); its parameters: --zeta.\n"
