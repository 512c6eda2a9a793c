"""TPP (`slimcore.penalties.tpp`, Wang & Fu 2023): the masks drop the smallest-ℓ1 filters, the penalty is 0 exactly when
the dropped channels are, its gradient is autograd's, λ grows to its ceiling, and the state survives a checkpoint."""
from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from slimcore.penalties import get
from slimcore.penalties.tpp import pruned_count

from conftest import PlainNet, backward_once, context, make, randomize_bn
from conftest import through_torch_save as _through_torch_save

pytestmark = pytest.mark.usefixtures("one_thread")


def test_tpp_masks_drop_the_smallest_l1_filters():
    model = make(PlainNet)
    pen = get("tpp", ratio=0.3)
    pen.setup(model, context())
    assert set(pen.masks) == {"features.0", "features.3", "features.7"}  # the linear has no BN after it
    assert pen.bn_of == {"features.0": "features.1", "features.3": "features.4", "features.7": "features.8"}
    modules = dict(model.named_modules())
    for conv, keep in pen.masks.items():
        w = modules[conv].weight.detach().flatten(1).abs().sum(1)
        assert int((~keep).sum()) == math.ceil(0.3 * w.numel()) and keep.dtype == torch.bool
        assert w[~keep].max() <= w[keep].min()
    assert set(pen.bn_masks) == {"features.1", "features.4", "features.8"}


def test_tpp_chooses_the_ceiling_of_ratio_n_and_never_a_whole_layer():
    assert [pruned_count(0.3, 10), pruned_count(0.31, 10), pruned_count(0.5, 7)] == [3, 4, 4]
    assert pruned_count(0.99, 16) == 15 and pruned_count(0.999, 400) == 398  # int(0.995·n), TPP's cap


def test_tpp_masks_never_split_a_residual_stream():
    """On resnet20 the convs summed by an add are left out; each block's first conv is chosen alone, as TPP's
    released ResNet scripts do (`*layer*.conv1`)."""
    from slimcore.analysis.structure import analyse
    from slimcore.models import create_model

    model = create_model("resnet20", 10, 1, 8)
    pen = get("tpp", ratio=0.5)
    pen.setup(model, context(shape=(1, 1, 8, 8)))
    assert sorted(pen.masks) == sorted(f"layer{s}.{b}.conv1" for s in (1, 2, 3) for b in (0, 1, 2))
    for group in analyse(model, (1, 8, 8)).groups:
        producers = [it.module for it in group.items if it.kind == "out"]
        masked = [p for p in producers if p in pen.masks]
        assert not masked or (producers == masked and "add" not in group.ties), group.name


def test_tpp_ignores_convs_without_a_following_bn():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 6, 3), nn.BatchNorm2d(6))
    pen = get("tpp")
    pen.setup(model, context())
    assert set(pen.masks) == {"2"} and pen.bn_of == {"2": "3"}


def test_tpp_penalty_zero_iff_pruned_channels_are_zero():
    model = make(PlainNet)
    pen = get("tpp", lam=0.1, ratio=0.5)
    pen.setup(model, context())
    assert pen.penalty_value(model).item() > 0
    modules = dict(model.named_modules())
    with torch.no_grad():
        for conv, keep in pen.masks.items():
            modules[conv].weight[~keep] = 0.0
            if modules[conv].bias is not None:
                modules[conv].bias[~keep] = 0.0
    assert pen.penalty_value(model).item() > 0  # pruned BN γ, β still nonzero
    with torch.no_grad():
        for bn, keep in pen.bn_masks.items():
            modules[bn].weight[~keep] = 0.0
            modules[bn].bias[~keep] = 0.0
    assert pen.penalty_value(model).item() == 0.0


def test_tpp_gradient_matches_autograd_of_the_penalty():
    model = make(PlainNet).double()
    pen = get("tpp", lam=0.3, ratio=0.5)
    ctx = context(dtype=torch.float64)
    pen.setup(model, ctx)
    model.zero_grad(set_to_none=True)
    pen.penalty_value(model).backward()
    auto = {n: None if p.grad is None else p.grad.clone() for n, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    pen.after_backward(model, ctx)
    for n, p in model.named_parameters():
        if auto[n] is None or not auto[n].any():
            assert p.grad is None or not p.grad.any(), n
        else:
            assert torch.allclose(p.grad, auto[n], rtol=1e-10, atol=1e-12), n
    assert model.classifier[1].weight.grad is None


def test_tpp_lam_grows_to_ceiling():
    pen = get("tpp", lam=0.01, lam_step=0.02, lam_every=5, lam_max=0.1)
    assert [pen.lam_at(s) for s in (0, 4, 5, 9, 10)] == [0.01, 0.01, 0.03, 0.03, 0.05]
    assert pen.lam_at(10_000) == 0.1
    model = make(PlainNet)
    ctx = context(step=12)
    pen.setup(model, ctx)
    backward_once(model)
    pen.after_backward(model, ctx)
    assert math.isclose(pen.current_lam, 0.05)


def test_tpp_sgd_on_the_penalty_alone_fades_the_dropped_filters():
    torch.manual_seed(0)
    model = randomize_bn(nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU()))
    with torch.no_grad():  # unit-norm filters: the Gram term is quartic, so its pace depends on the norm
        w = model[0].weight
        w.div_(w.flatten(1).norm(dim=1).view(-1, 1, 1, 1))
    pen = get("tpp", lam=0.1, ratio=0.5, lam_step=0.1, lam_every=10, lam_max=1.0)
    ctx = context()
    pen.setup(model, ctx)
    keep = pen.masks["0"]
    start = model[0].weight.detach().flatten(1).norm(dim=1)
    gamma0 = model[1].weight.detach().abs().clone()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)  # TPP's own lr_prune is 1e-3: the Gram term is stiff
    for step in range(2000):
        ctx.step = step
        opt.zero_grad(set_to_none=True)
        pen.after_backward(model, ctx)
        opt.step()
    end = model[0].weight.detach().flatten(1).norm(dim=1)
    assert (end[~keep] < 0.1 * start[~keep]).all()
    assert ((end[keep] / start[keep] - 1).abs() < 0.2).all()
    assert (model[1].weight.detach()[~keep].abs() < 1e-3 * gamma0[~keep] + 1e-6).all()
    assert torch.equal(model[1].weight.detach()[keep].abs(), gamma0[keep])


def test_tpp_state_dict_round_trip():
    model = make(PlainNet, seed=0)
    pen = get("tpp", lam=0.01, lam_step=0.01, lam_every=1, lam_max=0.5)
    ctx = context(step=7)
    pen.setup(model, ctx)
    backward_once(model)
    pen.after_backward(model, ctx)
    state = _through_torch_save(pen.state_dict())
    json.dumps({k: v for k, v in state.items() if k != "masks"})
    fresh = make(PlainNet, seed=5)  # on resume setup sees other weights, then the checkpoint restores the masks
    other = get("tpp", **pen.params())
    other.setup(fresh, context())
    other.load_state_dict(state)
    assert other.masks.keys() == pen.masks.keys()
    assert all(torch.equal(other.masks[k], pen.masks[k]) for k in pen.masks)
    assert other.bn_of == pen.bn_of and other.current_lam == pen.current_lam
    assert math.isclose(pen.current_lam, 0.08)
