"""Rankings: one score per channel of every group, comparable across the whole network (a global ranking).

Each is a small class in the `RANKINGS` registry. `scores(model, groups, learned)` returns one array per group
(indexed by the group's root channels); channels scored under the threshold are removed.
"""
from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np
from torch import nn

from slimcore.errors import ConfigError
from slimcore.pruning.math.groups import ChannelGroup
from slimcore.registry import Registry


def _gather_max(model: nn.Module, groups: Sequence[ChannelGroup], kinds: tuple[str, ...], value) -> list[np.ndarray]:
    """Per group, the largest `value(module)[idx]` over the items of `kinds`, placed at each root channel."""
    modules = dict(model.named_modules())
    out = []
    for g in groups:
        s = np.zeros(g.width, dtype=np.float64)
        for it in g.items:
            if it.kind in kinds:
                np.maximum.at(s, it.root_idxs, value(modules[it.module])[it.idxs])
        out.append(s)
    return out


def bn_scores(model: nn.Module, groups: Sequence[ChannelGroup]) -> list[np.ndarray]:
    """|γ| per channel; a channel several BNs normalise (residual stream, DenseNet feature) takes the largest.

    The largest, not the mean: a channel is nearly constant, hence removable at little cost, only when every
    BN that scales it has γ ≈ 0.
    """
    return _gather_max(model, groups, ("bn",), lambda m: m.weight.detach().abs().double().numpy())


def filter_norms(model: nn.Module, groups: Sequence[ChannelGroup]) -> list[np.ndarray]:
    """Mean |w| of each producing filter (L1 norm over its fan-in, so layers of different fan-in compare)."""
    def norms(m: nn.Module) -> np.ndarray:
        w = m.weight.detach().abs().double()
        return w.reshape(w.shape[0], -1).mean(dim=1).numpy()

    return _gather_max(model, groups, ("out", "dw"), norms)


def affine_scores(base: Sequence[np.ndarray], alpha: Sequence[float], kappa: Sequence[float]) -> list[np.ndarray]:
    """LeGR's per-layer affine map α_l·score + κ_l (Chin et al., CVPR 2020, Eq. 2)."""
    return [a * s + k for s, a, k in zip(base, alpha, kappa)]


class Ranking:
    """A global channel ranking; `learned` holds a search's result for rankings that need one."""

    name: ClassVar[str] = ""
    needs_search: ClassVar[bool] = False

    @classmethod
    def describe(cls) -> str:
        return (cls.__doc__ or "").strip().split("\n")[0]

    def scores(self, model: nn.Module, groups: Sequence[ChannelGroup], learned: dict | None = None) -> list[np.ndarray]:
        raise NotImplementedError


RANKINGS: Registry[type[Ranking]] = Registry("ranking")


@RANKINGS.register("bn")
class BNScaleRanking(Ranking):
    """|γ| of the BN scale factors (network slimming, Liu et al. 2017)."""

    name = "bn"

    def scores(self, model, groups, learned=None):
        return bn_scores(model, groups)


@RANKINGS.register("l1norm")
class FilterNormRanking(Ranking):
    """Mean |w| of each channel's filter (the filter-norm baseline of Li et al. 2017)."""

    name = "l1norm"

    def scores(self, model, groups, learned=None):
        return filter_norms(model, groups)


@RANKINGS.register("legr")
class LeGRRanking(Ranking):
    """α_l·|γ| + κ_l with per-layer α, κ learned by regularised evolution (LeGR, Chin et al. 2020)."""

    name = "legr"
    needs_search = True

    def scores(self, model, groups, learned=None):
        if not learned:
            raise ConfigError("the legr ranking needs a search first: run `slimcore rank RUN --ranking legr`.")
        names = [g.name for g in groups]
        if learned.get("groups") != names:
            raise ConfigError("the stored LeGR search was made for other layers; search again with "
                              "`slimcore rank RUN --ranking legr`.")
        return affine_scores(bn_scores(model, groups), learned["alpha"], learned["kappa"])
