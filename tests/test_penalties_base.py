"""The penalty interface and registry (`slimcore.penalties.base`): names, parameters, defaults, params() round
trips, bn_layers, the no-op hooks of the base class, and the Learn page's parameter table."""
from __future__ import annotations

import json

import pytest
import torch

from slimcore.errors import ConfigError
from slimcore.penalties import PENALTIES, Penalty, bn_layers, get
from slimcore.penalties.base import parameter_rows

from conftest import PlainNet, backward_once, context, make, snapshot

pytestmark = pytest.mark.usefixtures("one_thread")

ALL_NAMES = {"none", "l1", "lp", "tl1", "ista", "tpp"}


def test_registry_lists_all_six_with_descriptions():
    assert set(PENALTIES.names()) == ALL_NAMES
    for name in ALL_NAMES:
        assert PENALTIES.describe(name)
        assert issubclass(PENALTIES.get(name), Penalty)
        assert get(name).name == name


def test_unknown_name_and_parameter_are_config_errors():
    with pytest.raises(ConfigError, match=r"^unknown penalty 'l2'\. Valid penalties: ista, l1, lp, none, tl1, tpp\.$"):
        get("l2")
    with pytest.raises(ConfigError, match="penalty 'lp' has no parameter 'q'; allowed: lam, p, mode"):
        get("lp", q=0.5)
    with pytest.raises(ConfigError, match="penalty 'none' has no parameter 'mode'; allowed: lam"):
        get("none", mode="proximal")


@pytest.mark.parametrize("name,params", [
    ("l1", {"lam": -1e-4}), ("l1", {"lam": float("nan")}), ("l1", {"lam": float("inf")}), ("l1", {"lam": "x"}),
    ("none", {"lam": -1.0}), ("l1", {"mode": "adam"}), ("tl1", {"mode": "prox"}),
    ("lp", {"p": 0.0}), ("lp", {"p": 1.0}), ("lp", {"p": 1.5}), ("lp", {"p": float("nan")}),
    ("tl1", {"a": 0.0}), ("tl1", {"a": -1.0}), ("tl1", {"a": float("inf")}),
    ("ista", {"mode": "subgradient"}), ("ista", {"rho": -1.0}), ("ista", {"gamma_lr": 0.0}),
    ("ista", {"alpha": 0.0}), ("ista", {"alpha": -0.5}),
    ("tpp", {"ratio": 0.0}), ("tpp", {"ratio": 1.0}), ("tpp", {"ratio": 1.2}), ("tpp", {"mode": "proximal"}),
    ("tpp", {"lam_every": 0}), ("tpp", {"lam_every": 2.5}), ("tpp", {"lam_every": float("inf")}), ("tpp", {"lam_step": -1.0}),
    ("tpp", {"lam": 0.5, "lam_max": 0.1}), ("tpp", {"lam": 2.0}), ("none", {"mode": "proximal"}),
])
def test_bad_parameters_are_config_errors(name, params):
    with pytest.raises(ConfigError):
        get(name, **params)


@pytest.mark.parametrize("name", sorted(ALL_NAMES))
def test_params_are_json_and_rebuild_the_same_penalty(name):
    params = get(name, lam=3e-4).params()
    assert params == {"lam": 3e-4, **{p.name: p.default for p in PENALTIES.get(name).parameters}}
    assert get(name, **json.loads(json.dumps(params))).params() == params


DEFAULTS = {"none": (0.0, None), "l1": (0.01, "proximal"), "lp": (0.01, "proximal"), "tl1": (0.01, "proximal"),
            "ista": (0.03, "proximal"), "tpp": (0.3, "subgradient")}


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_default_lam_and_mode(name):
    lam, mode = DEFAULTS[name]
    pen = get(name)
    assert pen.lam == PENALTIES.get(name).default_lam == lam
    assert getattr(pen, "mode", None) == mode


def test_defaults_and_aliases():
    assert get("lp").p == 0.5 and get("tl1").a == 1.0 and get("tpp").lam_max == 1.0
    ista = get("ista", rho=0.02)
    assert ista.lam == ista.rho == 0.02
    assert get("ista", lam=0.5, rho=0.02).lam == 0.02  # the paper's name wins, as it did before it was declared
    assert get("ista", lam=0.03).rho is None


def test_bn_layers_in_module_order():
    names = [n for n, _ in bn_layers(PlainNet())]
    assert names == ["features.1", "features.4", "features.8"]


def test_none_changes_nothing():
    model = make(PlainNet)
    backward_once(model)
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    before = snapshot(model)
    pen, ctx = get("none", lam=1.0), context()
    pen.setup(model, ctx)
    assert pen.optimizer_groups(model, 0.1, 0.9, 1e-4) is None
    pen.after_backward(model, ctx)
    pen.after_step(model, ctx)
    pen.teardown(model)
    assert all(torch.equal(p.grad, grads[n]) for n, p in model.named_parameters())
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert pen.state_dict() == {}


def test_the_learn_page_table_has_lam_then_every_declared_parameter_of_each_penalty():
    rows = parameter_rows()
    assert len(rows) == sum(1 + len(PENALTIES.get(n).parameters) for n in PENALTIES.names())
    for name in PENALTIES.names():
        cls = PENALTIES.get(name)
        mine = [r for r in rows if r["penalty"] == name]
        assert [r["parameter"] for r in mine] == ["lam", *(p.name for p in cls.parameters)]
        assert (mine[0]["default"], mine[0]["allowed"]) == (f"{cls.default_lam:g}", "a number >= 0")
        for row, p in zip(mine[1:], cls.parameters):
            assert (row["default"], row["allowed"], row["help"]) == (p.default_text(), p.allowed(), p.help)


def test_repr_shows_every_parameter_so_a_penalty_can_be_rebuilt_from_it():
    assert repr(get("lp", lam=0.2, p=0.75)) == "LpPenalty(lam=0.2, p=0.75, mode='proximal')"
    assert repr(get("none")) == "NoPenalty(lam=0.0)"


def test_the_base_penalty_is_zero_with_an_identity_prox_and_stays_differentiable():
    pen = get("none", lam=1.0)
    x = torch.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    value = pen.value(x)
    assert value.tolist() == [0.0, 0.0, 0.0] and value.requires_grad  # can join a loss
    y = pen.prox(x.detach(), 0.5)
    assert torch.equal(y, x.detach()) and y.data_ptr() != x.data_ptr()  # a copy, not the input itself
    assert torch.equal(pen.grad(x.detach()), torch.zeros(3))
