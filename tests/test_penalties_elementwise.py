"""The shared hooks of the penalties that act on each BN γ alone (`slimcore.penalties.elementwise`): in subgradient
mode γ.grad gains exactly λ·∂R(γ) and nothing else changes; in proximal mode γ becomes prox(γ, lr), with exact zeros."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from slimcore.penalties import bn_layers, get

from conftest import PlainNet, backward_once, context, make, snapshot

pytestmark = pytest.mark.usefixtures("one_thread")

ELEMENTWISE = [("l1", {}), ("lp", {"p": 0.5}), ("lp", {"p": 0.75}), ("tl1", {"a": 1.0}), ("tl1", {"a": 0.5})]


@pytest.mark.parametrize("name,params", ELEMENTWISE)
def test_subgradient_mode_changes_only_gamma_grads_by_lam_dR(name, params):
    model = make(PlainNet)
    with torch.no_grad():
        model.features[1].weight[:2] = 0.0  # the subgradient at exactly 0 must be finite
    backward_once(model)
    before = {n: p.grad.clone() for n, p in model.named_parameters()}
    weights = snapshot(model)
    pen = get(name, lam=0.01, mode="subgradient", **params)
    ctx = context()
    pen.setup(model, ctx)
    pen.after_backward(model, ctx)
    pen.after_step(model, ctx)  # a no-op in subgradient mode
    gammas = {f"{n}.weight": bn.weight for n, bn in bn_layers(model)}
    for n, p in model.named_parameters():
        if n in gammas:
            expected = before[n] + pen.grad(p.detach())
            assert torch.isfinite(p.grad).all()
            assert torch.equal(p.grad, expected), n
            assert not torch.equal(p.grad, before[n])
        else:
            assert torch.equal(p.grad, before[n]), n
    for k, v in model.state_dict().items():
        assert torch.equal(v, weights[k])


@pytest.mark.parametrize("name,params", ELEMENTWISE)
def test_proximal_mode_gives_exact_zeros_and_touches_only_gamma(name, params):
    model = make(PlainNet)
    backward_once(model)
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    before = snapshot(model)
    pen = get(name, lam=2.0, mode="proximal", **params)
    ctx = context(lr=0.2)
    pen.setup(model, ctx)
    pen.after_backward(model, ctx)  # a no-op in proximal mode
    pen.after_step(model, ctx)
    zeros = 0
    for n, bn in bn_layers(model):
        expected = pen.prox(before[f"{n}.weight"], 0.2)
        assert torch.equal(bn.weight.detach(), expected)
        zeros += int((bn.weight == 0).sum())
    assert zeros > 0
    gammas = {f"{n}.weight" for n, _ in bn_layers(model)}
    for k, v in model.state_dict().items():
        if k not in gammas:
            assert torch.equal(v, before[k]), k
    for n, p in model.named_parameters():
        assert torch.equal(p.grad, grads[n])


@pytest.mark.parametrize("name,params", ELEMENTWISE)
def test_proximal_training_steps_keep_exact_zeros(name, params):
    model = make(PlainNet)
    pen = get(name, lam=0.5, mode="proximal", **params)
    ctx = context(lr=0.05)
    pen.setup(model, ctx)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for step in range(5):
        ctx.step = step
        backward_once(model, seed=step)
        pen.after_backward(model, ctx)
        opt.step()
        pen.after_step(model, ctx)
    assert sum(int((bn.weight == 0).sum()) for _, bn in bn_layers(model)) > 0


@pytest.mark.parametrize("mode", ["subgradient", "proximal"])
def test_zero_lam_changes_nothing_and_a_frozen_gamma_is_left_alone(mode):
    model = make(PlainNet)
    backward_once(model)
    grads, before = {n: p.grad.clone() for n, p in model.named_parameters()}, snapshot(model)
    pen, ctx = get("l1", lam=0.0, mode=mode), context(lr=0.2)
    pen.after_backward(model, ctx)
    pen.after_step(model, ctx)
    assert all(torch.equal(p.grad, grads[n]) for n, p in model.named_parameters())
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())

    model.features[1].weight.requires_grad_(False)  # a frozen γ (no gradient, no prox)
    backward_once(model)
    frozen, live = model.features[1].weight.detach().clone(), model.features[4].weight.grad.clone()
    pen = get("l1", lam=2.0, mode=mode)
    pen.after_backward(model, ctx)
    pen.after_step(model, ctx)
    assert model.features[1].weight.grad is None and torch.equal(model.features[1].weight, frozen)
    if mode == "subgradient":
        assert not torch.equal(model.features[4].weight.grad, live)
    else:
        assert int((model.features[4].weight == 0).sum()) > 0


# -- proximal mode minimises the objective it names -----------------------------------------------------------
class OneGamma(nn.Module):
    """Logits (γ·x̂, −γ·x̂) of one BN channel: the training loss depends on γ alone (β is added and taken off)."""

    def __init__(self) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = (self.bn(x) - self.bn.bias.view(1, -1, 1, 1)).flatten(1)
        return torch.cat([z, -z], 1)


def one_gamma_problem(n: int = 256):
    """Full-batch data whose loss L(γ) is smooth and convex, and L(γ) itself, computed independently."""
    from torch.utils.data import TensorDataset

    from slimcore.data.splits import DataSplits

    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, 1, 1, generator=g)
    y = ((x.flatten() + 0.8 * torch.randn(n, generator=g)) < 0).long()  # class 0 where x is large
    data = DataSplits("one-gamma", TensorDataset(x, y), TensorDataset(x, y), TensorDataset(x, y), 2, 1, 1, ["a", "b"])
    x_hat = ((x - x.mean()) / torch.sqrt(x.var(unbiased=False) + 1e-5)).flatten().double()

    def loss(gammas: torch.Tensor) -> torch.Tensor:  # L at many γ at once
        z = gammas[:, None] * x_hat[None, :]
        logits = torch.stack([z, -z], -1)
        return torch.nn.functional.cross_entropy(logits.reshape(-1, 2), y.repeat(len(gammas)),
                                                 reduction="none").view(len(gammas), n).mean(1)
    return data, loss


def trained_gamma(data, penalty: str, lam: float, params: dict) -> float:
    from slimcore.config import TrainConfig
    from slimcore.training import Trainer

    config = TrainConfig(epochs=400, batch_size=len(data.train), penalty=penalty, lam=lam,
                         penalty_params={**params, "mode": "proximal"}, snapshot_every=10_000)
    # The defaults: momentum and weight decay used to bias λ; the cosine schedule settles a nonconvex prox,
    # which can cycle under heavy-ball momentum at a constant learning rate.
    assert (config.momentum, config.weight_decay, config.lr, config.schedule) == (0.9, 1e-4, 0.05, "cosine")
    trainer = Trainer(config, data=data, model=OneGamma())
    status, message = trainer.fit()
    assert status == "finished", message
    return float(trainer.model.bn.weight.detach())


@pytest.mark.parametrize("name,params", [("l1", {}), ("lp", {"p": 0.5}), ("tl1", {"a": 1.0})])
def test_proximal_training_converges_to_the_minimiser_of_loss_plus_lam_penalty(name, params):
    data, loss = one_gamma_problem()
    grid = torch.linspace(-4, 4, 160_001, dtype=torch.float64)
    losses = loss(grid)
    slope = float((loss(torch.tensor([1e-4], dtype=torch.float64)) - loss(torch.tensor([-1e-4], dtype=torch.float64)))
                  / 2e-4)
    lam = 0.3 * abs(slope)  # small enough that the minimiser is not 0
    penalty = get(name, lam=lam, **params)

    def minimiser(weight: float) -> float:
        objective = losses + weight * penalty.value(grid) / lam
        return float(grid[objective.argmin()])

    want, biased = minimiser(lam), minimiser(0.1 * lam)
    assert abs(want) > 0.05 and abs(want - biased) > 0.05
    got = trained_gamma(data, name, lam, params)
    assert got == pytest.approx(want, abs=2e-3), (got, want, biased)
