"""ISTA on BN γ with per-layer compute-weighted ℓ1 and γ–W rescaling (Ye, Lu, Lin, Wang, ICLR 2018)."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from slimcore.errors import ConfigError
from slimcore.penalties.base import PENALTIES, Penalty, PenaltyContext, bn_layers
from slimcore.analysis.consumers import bn_consumers
from slimcore.penalties.params import Param, mode_param
from slimcore.penalties.thresholding import soft_threshold


@PENALTIES.register("ista")
class IstaPenalty(Penalty):
    """ISTA on BN γ (Ye et al. 2018): own lr μ, soft threshold μ·λ·ρ per channel cost, optional γ–W rescaling α."""

    name = "ista"
    parameters = (
        Param("rho", float, None, "Ye et al.'s ρ, the base ℓ1 weight before each channel's cost weighting: the "
              "same number as λ under the paper's name; given, it replaces λ", low=0, optional=True),
        Param("gamma_lr", float, 0.1, "ISTA's own learning rate μ for γ (no momentum, no weight decay)", low=0,
              low_open=True),
        Param("alpha", float, 1.0, "γ–W rescaling factor α: γ, β ×α and consumer weights ÷α (Ye et al. 2018); "
              "smaller α sparsifies faster, 1 = off", low=0, low_open=True),
        mode_param("proximal"),
    )
    default_lam = 0.03

    def __init__(self, lam: float | None = None, **values: Any) -> None:
        super().__init__(lam, **values)
        self.rho_layers: dict[str, list[float]] = {}  # BN name → λ·ρ of each of its channels
        self.rescaled: dict[str, list[str]] = {}  # BN name → consumer layers divided by α (only while rescaled)
        self._base_lr: float | None = None

    def check_parameters(self) -> None:
        if self.rho is not None:  # the paper's name wins, as it always has: stored runs that gave both still resume
            self.lam = self.rho

    def value(self, x: Tensor) -> Tensor:
        return self.lam * x.abs()

    def prox(self, x: Tensor, step: float) -> Tensor:
        return soft_threshold(x, step * self.lam)

    def grad(self, x: Tensor) -> Tensor:
        return self.lam * torch.sign(x)

    # -- hooks ---------------------------------------------------------------------------------
    def setup(self, model: nn.Module, ctx: PenaltyContext) -> None:
        """Weighs each channel's λ by the cost it carries (`channel_costs`) and, if alpha != 1, rescales γ, β by α
        and consumers by 1/α."""
        from slimcore.analysis.graph import channel_groups
        from slimcore.analysis.shapes import layer_shapes

        if ctx is None or ctx.sample_input is None:
            raise ValueError("the ista penalty needs ctx.sample_input to weigh layers by their compute")
        sizes = {name: bn.num_features for name, bn in bn_layers(model)}
        x = ctx.sample_input
        costs = channel_costs(channel_groups(model, x), layer_shapes(model, tuple(x.shape[1:]), x),
                              tuple(x.shape[1:]), sizes)
        self.rho_layers = {bn: [self.lam * c for c in cost] for bn, cost in costs.items()}
        self.rescaled = {}
        if self.alpha != 1.0:
            try:
                consumers = bn_consumers(model)
            except ConfigError as e:
                raise ConfigError(f"ista: γ–W rescaling (alpha={self.alpha:g}) is unsupported for this model: {e} "
                                  f"Use alpha=1.0.") from None
            self.rescaled = {bn: cs for bn, cs in consumers.items() if cs}
            self._scale(model, undo=False)

    def _scale(self, model: nn.Module, undo: bool) -> None:
        # γ–W rescaling, Ye et al. 2018 §3: BN·α then ReLU/pool then W/α computes the same function (ReLU is
        # positively homogeneous), while the ℓ1 pressure on the smaller γ bites harder.
        modules = dict(model.named_modules())
        a = self.alpha
        with torch.no_grad():
            for bn_name, consumer_names in self.rescaled.items():
                bn = modules[bn_name]
                bn_params = [p for p in (bn.weight, bn.bias) if p is not None]
                weights = [modules[c].weight for c in consumer_names]
                # undo multiplies/divides by α itself (not by 1/α): the round trip is exact for α a power of two
                times_a, over_a = (weights, bn_params) if undo else (bn_params, weights)
                for p in times_a:
                    p.mul_(a)
                for p in over_a:
                    p.div_(a)

    def optimizer_groups(self, model: nn.Module, lr: float, momentum: float,
                         weight_decay: float) -> list[dict]:
        """Every BN γ in its own group: lr μ, no momentum, no weight decay (ISTA's plain gradient step)."""
        self._base_lr = float(lr)
        gammas = [bn.weight for _, bn in bn_layers(model) if bn.weight is not None and bn.weight.requires_grad]
        ids = {id(g) for g in gammas}
        rest = [p for p in model.parameters() if p.requires_grad and id(p) not in ids]
        return [
            {"params": rest, "lr": lr, "momentum": momentum, "weight_decay": weight_decay},
            {"params": gammas, "lr": self.gamma_lr, "momentum": 0.0, "weight_decay": 0.0},
        ]

    def current_gamma_lr(self, ctx: PenaltyContext) -> float:
        """μ at this step: the scheduler scales the γ group like the main one, so μ·(lr now / lr at start)."""
        if self._base_lr is None or self._base_lr <= 0:
            return self.gamma_lr
        return self.gamma_lr * ctx.lr / self._base_lr

    def after_step(self, model: nn.Module, ctx: PenaltyContext) -> None:
        """γ ← soft_threshold(γ, μ·ρ_l) on each BN layer (the proximal half of ISTA)."""
        mu = self.current_gamma_lr(ctx)
        with torch.no_grad():
            for name, bn in bn_layers(model):
                if bn.weight is None or not bn.weight.requires_grad:
                    continue
                rho = torch.as_tensor(self.rho_layers.get(name, self.lam), dtype=bn.weight.dtype,
                                      device=bn.weight.device)
                t = mu * rho  # per channel; a run recorded before costs per channel has one number per layer
                bn.weight.copy_(torch.sign(bn.weight) * torch.clamp(bn.weight.abs() - t, min=0.0))

    def teardown(self, model: nn.Module) -> None:
        """Undoes the γ–W rescaling (γ, β ÷ α; consumer weights × α)."""
        if self.rescaled:
            self._scale(model, undo=True)
            self.rescaled = {}

    def state_dict(self) -> dict[str, Any]:
        return {"rho_layers": dict(self.rho_layers), "rescaled": {k: list(v) for k, v in self.rescaled.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rho_layers = dict(state.get("rho_layers", self.rho_layers))
        self.rescaled = {k: list(v) for k, v in state.get("rescaled", self.rescaled).items()}


def channel_costs(groups, layer_shapes, input_shape: tuple[int, ...], bn_sizes: dict[str, int]
                  ) -> dict[str, list[float]]:
    """ρ of every BN channel, the cost it carries as Ye et al.'s code computes it (batchnorm_prune, "memory"
    priority): (its map size H·W + the weights that produce it, k²·c_in of each producing filter + the weights it
    touches in every consumer, k'²·c_out' (a linear consumer: its outputs, once per input feature the channel
    flattens into)) ÷ the input image's pixels. Channels tied in one group (a residual stream, a DenseNet
    feature) carry the same cost, since they go together; a BN outside every group (the layer before the
    classifier's outputs, say) gets 1."""
    shapes = {s.name: s for s in layer_shapes}
    pixels = float(input_shape[-2] * input_shape[-1])
    out = {bn: [1.0] * n for bn, n in bn_sizes.items()}
    for group in groups:
        cost = np.zeros(group.width)
        root = shapes.get(group.name)
        cost += root.positions if root is not None and root.kind == "conv" else 1.0  # the channel's map
        for it in group.items:
            s = shapes.get(it.module)
            if s is None:
                continue
            per_root = np.bincount(it.root_idxs, minlength=group.width).astype(np.float64)
            if it.kind == "out":
                cost += per_root * s.kernel * (s.in_channels // s.groups)
            elif it.kind == "dw":
                cost += per_root * s.kernel
            elif it.kind == "in":
                cost += per_root * s.kernel * (s.out_channels // s.groups)
        for it in group.items:
            if it.kind == "bn" and it.module in out:
                for i, r in zip(it.idxs, it.root_idxs):
                    out[it.module][int(i)] = float(cost[r] / pixels)
    return out
