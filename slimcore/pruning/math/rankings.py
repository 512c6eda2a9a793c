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


AGGREGATIONS = ("max", "mean", "sum")


def _gather(model: nn.Module, groups: Sequence[ChannelGroup], kinds: tuple[str, ...], value,
            how: str = "max") -> list[np.ndarray]:
    """Per group, `value(module)[idx]` over the items of `kinds` combined at each root channel: the largest, the
    mean or the sum over the layers that hold that channel."""
    if how not in AGGREGATIONS:
        raise ConfigError(f"unknown aggregation {how!r}; use one of: {', '.join(AGGREGATIONS)}.")
    modules = dict(model.named_modules())
    out = []
    for g in groups:
        s = np.zeros(g.width, dtype=np.float64)
        count = np.zeros(g.width, dtype=np.float64)
        for it in g.items:
            if it.kind in kinds:
                values = value(modules[it.module])[it.idxs]
                (np.maximum if how == "max" else np.add).at(s, it.root_idxs, values)
                np.add.at(count, it.root_idxs, 1.0)
        out.append(s / np.maximum(count, 1.0) if how == "mean" else s)
    return out


def bn_scores(model: nn.Module, groups: Sequence[ChannelGroup], how: str = "max") -> list[np.ndarray]:
    """|γ| per channel; a channel several BNs normalise (a residual stream, a DenseNet feature read by many layers)
    takes the largest by default (`how`: "max", "mean" or "sum").

    The largest: a channel is nearly constant, hence removable at little cost, only when every BN that scales it
    has γ ≈ 0. The first seed (network slimming) selects per BN instead; on DenseNet-40, where most groups span
    several BNs, "mean" and "sum" come closer to that and remove a channel that most readers scale down.
    """
    return _gather(model, groups, ("bn",), lambda m: m.weight.detach().abs().double().numpy(), how)


def beta_sizes(model: nn.Module, groups: Sequence[ChannelGroup]) -> list[np.ndarray]:
    """|β| per channel (the largest over the BNs that hold it): the size of the constant a channel whose γ is 0
    still outputs, the order in which tied channels are removed (smallest constant first)."""
    return _gather(model, groups, ("bn",), lambda m: m.bias.detach().abs().double().numpy(), "max")


def filter_norms(model: nn.Module, groups: Sequence[ChannelGroup]) -> list[np.ndarray]:
    """Mean |w| of each producing filter (L1 norm over its fan-in, so layers of different fan-in compare)."""
    def norms(m: nn.Module) -> np.ndarray:
        w = m.weight.detach().abs().double()
        return w.reshape(w.shape[0], -1).mean(dim=1).numpy()

    return _gather(model, groups, ("out", "dw"), norms)


def affine_scores(base: Sequence[np.ndarray], alpha: Sequence[float], kappa: Sequence[float]) -> list[np.ndarray]:
    """LeGR's per-layer affine map α_l·score + κ_l (Chin et al., CVPR 2020, Eq. 2)."""
    return [a * s + k for s, a, k in zip(base, alpha, kappa)]


class Ranking:
    """A global channel ranking; `learned` holds a search's result for rankings that need one."""

    name: ClassVar[str] = ""
    needs_search: ClassVar[bool] = False
    # The penalty whose training state the ranking reads (passed as `learned`), or None.
    reads_penalty: ClassVar[str | None] = None

    @classmethod
    def describe(cls) -> str:
        return (cls.__doc__ or "").strip().split("\n")[0]

    def scores(self, model: nn.Module, groups: Sequence[ChannelGroup], learned: dict | None = None) -> list[np.ndarray]:
        raise NotImplementedError

    def landmarks(self, learned: dict | None = None) -> list[float]:
        """Thresholds the trade-off curve always has a point at (besides its evenly spaced FLOPs targets)."""
        return []


RANKINGS: Registry[type[Ranking]] = Registry("ranking")


@RANKINGS.register("bn")
class BNScaleRanking(Ranking):
    """|γ| of the BN scale factors (network slimming, Liu et al. 2017)."""

    name = "bn"

    def scores(self, model, groups, learned=None):
        return bn_scores(model, groups)


@RANKINGS.register("bn-mean")
class BNScaleMeanRanking(Ranking):
    """Mean |γ| over the BNs that normalise a channel (tied channels: residual streams, DenseNet features)."""

    name = "bn-mean"

    def scores(self, model, groups, learned=None):
        return bn_scores(model, groups, "mean")


@RANKINGS.register("bn-sum")
class BNScaleSumRanking(Ranking):
    """Sum of |γ| over the BNs that normalise a channel (a channel many layers read counts for more)."""

    name = "bn-sum"

    def scores(self, model, groups, learned=None):
        return bn_scores(model, groups, "sum")


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


@RANKINGS.register("tpp")
class TPPRanking(Ranking):
    """The filters TPP chose at the start of training first (by |γ|), then the others by |γ| (Wang & Fu 2023)."""

    name = "tpp"
    reads_penalty = "tpp"
    CHOSEN_BELOW = 1.0  # chosen channels score in [0, 1), the others 1 + |γ|: threshold 1 removes exactly TPP's choice

    def scores(self, model, groups, learned=None):
        learned = learned or {}
        if learned.get("penalty") != "tpp" or not (learned.get("state") or {}).get("masks"):
            raise ConfigError(f"the tpp ranking removes the filters TPP chose while training, so it needs a run "
                              f"trained with --penalty tpp (this run used {learned.get('penalty')!r}); use the bn "
                              "ranking here.")
        masks = {name: np.asarray(keep, dtype=bool) for name, keep in learned["state"]["masks"].items()}
        out = []
        for group, gamma in zip(groups, bn_scores(model, groups)):
            chosen = np.zeros(group.width, dtype=bool)
            for it in group.items:
                if it.kind == "out" and it.module in masks:
                    chosen[it.root_idxs[~masks[it.module][it.idxs]]] = True
            out.append(np.where(chosen, gamma / (1.0 + gamma), 1.0 + gamma))
        return out

    def landmarks(self, learned=None):
        return [self.CHOSEN_BELOW]
