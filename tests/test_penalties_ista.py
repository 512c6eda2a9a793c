"""ISTA on BN γ (`slimcore.penalties.ista`, Ye et al. 2018): γ–W rescaling keeps the function and is undone exactly,
ρ per layer follows the conv MACs, γ has its own optimizer group, and the proximal half is a soft threshold."""
from __future__ import annotations

import math

import pytest
import torch

from slimcore.analysis.consumers import bn_consumers
from slimcore.errors import ConfigError
from slimcore.models import list_models
from slimcore.penalties import bn_layers, get
from slimcore.penalties.thresholding import soft_threshold

from conftest import EXPECTED_CONSUMERS, PlainNet, UntraceableNet, backward_once, context, make, randomize_bn, snapshot
from conftest import through_torch_save as _through_torch_save

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("cls", list(EXPECTED_CONSUMERS))
@pytest.mark.parametrize("alpha", [0.5, 0.3])
def test_rescaling_keeps_outputs_and_teardown_restores(cls, alpha):
    model = make(cls)
    x = torch.randn(4, 3, 8, 8)
    model.eval()
    with torch.no_grad():
        out_eval = model(x)
    original = snapshot(model)
    pen = get("ista", lam=1e-3, alpha=alpha)
    pen.setup(model, context())
    expected = {bn: cs for bn, cs in EXPECTED_CONSUMERS[cls].items() if cs}
    assert pen.rescaled == expected
    modules = dict(model.named_modules())
    for name, _ in bn_layers(model):
        factor = alpha if name in expected else 1.0
        assert torch.allclose(modules[name].weight, original[f"{name}.weight"] * factor)
        assert torch.allclose(modules[name].bias, original[f"{name}.bias"] * factor)
    for consumers in expected.values():
        for c in consumers:
            assert torch.allclose(modules[c].weight, original[f"{c}.weight"] / alpha)
    with torch.no_grad():
        assert torch.allclose(model(x), out_eval, atol=1e-5, rtol=1e-5)
        model.train()  # batch statistics: the scale still passes through ReLU unchanged
        torch.manual_seed(3)
        out_train = model(x)
    pen.teardown(model)
    restored = snapshot(model)
    with torch.no_grad():
        torch.manual_seed(3)
        assert torch.allclose(model(x), out_train, atol=1e-5, rtol=1e-5)
    for k, v in restored.items():
        if k.endswith(("running_mean", "running_var", "num_batches_tracked")):
            continue  # the train-mode forwards moved these; rescaling never touches them
        if alpha == 0.5:
            assert torch.equal(v, original[k]), k  # a power of two: the round trip is exact
        else:
            assert torch.allclose(v, original[k], rtol=1e-6, atol=1e-7), k
    pen.teardown(model)  # a second teardown must not undo twice
    assert all(torch.equal(p.detach(), restored[k]) for k, p in model.named_parameters())


def test_rescaling_untraceable_model_is_config_error_but_alpha_one_works():
    with pytest.raises(ConfigError, match="alpha=1.0"):
        get("ista", alpha=0.5).setup(make(UntraceableNet), context())
    pen = get("ista", alpha=1.0)
    pen.setup(make(UntraceableNet), context())
    assert pen.rescaled == {}


def test_ista_rho_is_each_channels_cost_as_ye_et_al_code_computes_it():
    """(map H·W + producing filter k²·c_in + consumer weights k'²·c_out') / input pixels, on 8×8 inputs."""
    model = make(PlainNet)
    pen = get("ista", lam=1e-3)
    pen.setup(model, context(shape=(2, 3, 8, 8)))
    cost = {"features.1": (64 + 9 * 3 + 9 * 16) / 64,  # 8×8 map, conv 3→8, read by conv 8→16
            "features.4": (64 + 9 * 8 + 9 * 16) / 64,  # read by the conv after the 2×2 pool
            "features.8": (16 + 9 * 16 + 10) / 64}  # 4×4 map, read by the linear (one feature per channel)
    assert pen.rho_layers.keys() == cost.keys()
    for name, c in cost.items():
        assert len(pen.rho_layers[name]) == dict(model.named_modules())[name].num_features
        assert all(math.isclose(v, 1e-3 * c, rel_tol=1e-12) for v in pen.rho_layers[name]), name


def test_ista_tied_channels_share_one_cost_and_count_every_consumer():
    from conftest import ResidualNet

    model = make(ResidualNet)
    pen = get("ista", lam=1.0)
    pen.setup(model, context())
    assert pen.rho_layers["bn0"] == pen.rho_layers["bn2"]  # one residual stream: the same channels
    assert min(pen.rho_layers["bn0"]) > min(pen.rho_layers["bn1"])  # two producers and two readers


def test_ista_optimizer_groups():
    model = make(PlainNet)
    pen = get("ista", gamma_lr=0.05)
    groups = pen.optimizer_groups(model, 0.1, 0.9, 5e-4)
    main, gamma = groups
    gammas = [bn.weight for _, bn in bn_layers(model)]
    assert [id(p) for p in gamma["params"]] == [id(p) for p in gammas]
    assert (gamma["lr"], gamma["momentum"], gamma["weight_decay"]) == (0.05, 0.0, 0.0)
    assert (main["lr"], main["momentum"], main["weight_decay"]) == (0.1, 0.9, 5e-4)
    all_ids = sorted(id(p) for p in model.parameters())
    assert sorted(id(p) for g in groups for p in g["params"]) == all_ids
    torch.optim.SGD(groups, lr=0.1)  # accepted by the optimizer as is


def test_ista_after_step_soft_thresholds_with_mu_rho_l():
    model = make(PlainNet)
    pen = get("ista", lam=0.5, gamma_lr=0.2)
    ctx = context(lr=0.1)
    pen.setup(model, ctx)
    pen.optimizer_groups(model, 0.1, 0.9, 0.0)
    ctx.lr = 0.01  # the schedule cut the main lr ×0.1, so the γ group's μ is 0.02 now
    before = snapshot(model)
    pen.after_backward(model, ctx)
    pen.after_step(model, ctx)
    for name, bn in bn_layers(model):
        for c, rho in enumerate(pen.rho_layers[name]):  # each channel by its own cost
            expected = soft_threshold(before[f"{name}.weight"][c:c + 1], 0.02 * rho)
            assert torch.allclose(bn.weight.detach()[c:c + 1], expected, rtol=0, atol=1e-7)


def test_ista_training_reaches_exact_zeros_and_other_weights_use_sgd():
    model = make(PlainNet)
    pen = get("ista", lam=0.5, gamma_lr=0.1, alpha=0.5)
    ctx = context(lr=0.05)
    pen.setup(model, ctx)
    opt = torch.optim.SGD(pen.optimizer_groups(model, 0.05, 0.9, 1e-4), lr=0.05)
    for step in range(10):
        ctx.step = step
        backward_once(model, seed=step)
        pen.after_backward(model, ctx)
        opt.step()
        pen.after_step(model, ctx)
    pen.teardown(model)
    assert sum(int((bn.weight == 0).sum()) for _, bn in bn_layers(model)) > 0


def test_ista_state_dict_round_trip():
    model = make(PlainNet)
    pen = get("ista", alpha=0.5)
    pen.setup(model, context())
    state = pen.state_dict()
    other = get("ista", alpha=0.5)
    other.load_state_dict(_through_torch_save(state))
    assert other.rho_layers == pen.rho_layers and other.rescaled == pen.rescaled


# -- the model zoo ----------------------------------------------------------------------------------
@pytest.mark.parametrize("model_name", list_models())
def test_zoo_rescaling_keeps_outputs(model_name):
    from slimcore.models import create_model

    torch.manual_seed(0)
    model = randomize_bn(create_model(model_name, 10, 3, 32)).double().eval()
    consumers = bn_consumers(model)  # every zoo model traces, and in each some BN feeds only convs/linears
    assert any(consumers.values()), f"{model_name}: nothing to rescale"
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        before_out = model(x)
    before = snapshot(model)
    pen = get("ista", alpha=0.5)
    pen.setup(model, context(shape=(1, 3, 32, 32), dtype=torch.float64))
    assert pen.rescaled == {bn: cs for bn, cs in consumers.items() if cs}
    assert not all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # the weights did change
    with torch.no_grad():
        assert torch.allclose(model(x), before_out, atol=1e-5, rtol=1e-5)
    pen.teardown(model)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
