"""Rankings (`slimcore.pruning.math.rankings`): |γ| with the largest over a group's BNs, mean |w| of the producing
filters, LeGR's affine map, and the registry that lists them."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from slimcore.errors import ConfigError
from slimcore.pruning import RANKINGS
from slimcore.pruning.math.groups import ChannelGroup, GroupItem
from slimcore.pruning.math.rankings import affine_scores, bn_scores, filter_norms


class Tied(nn.Module):
    """Two producers whose outputs are added (a residual stream), each normalised by its own BN."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.bn_a = nn.Conv2d(2, 3, 1, bias=False), nn.BatchNorm2d(3)
        self.b, self.bn_b = nn.Conv2d(2, 3, 1, bias=False), nn.BatchNorm2d(3)
        with torch.no_grad():
            self.bn_a.weight.copy_(torch.tensor([0.5, -2.0, 0.0]))
            self.bn_b.weight.copy_(torch.tensor([-1.0, 0.25, 0.0]))
            self.a.weight.copy_(torch.tensor([[1.0, -3.0], [0.0, 0.0], [2.0, 2.0]]).view(3, 2, 1, 1))
            self.b.weight.copy_(torch.tensor([[0.5, 0.5], [4.0, 0.0], [-1.0, 0.0]]).view(3, 2, 1, 1))


def _item(module, kind, idxs):
    return GroupItem(module, kind, np.asarray(idxs), np.asarray(idxs))


GROUPS = [ChannelGroup("a", 3, (_item("a", "out", [0, 1, 2]), _item("bn_a", "bn", [0, 1, 2]),
                                _item("b", "out", [0, 1, 2]), _item("bn_b", "bn", [0, 1, 2])))]


def test_rankings_registry_lists_them_all():
    assert RANKINGS.names() == ["bn", "bn-mean", "bn-sum", "l1norm", "legr", "tpp"]


def test_each_ranking_describes_itself_in_one_line():
    assert [RANKINGS.get(n).describe() for n in RANKINGS.names()] == [
        "|γ| of the BN scale factors (network slimming, Liu et al. 2017).",
        "Mean |γ| over the BNs that normalise a channel (tied channels: residual streams, DenseNet features).",
        "Sum of |γ| over the BNs that normalise a channel (a channel many layers read counts for more).",
        "Mean |w| of each channel's filter (the filter-norm baseline of Li et al. 2017).",
        "α_l·|γ| + κ_l with per-layer α, κ learned by regularised evolution (LeGR, Chin et al. 2020).",
        "The filters TPP chose at the start of training first (by |γ|), then the others by |γ| (Wang & Fu 2023).",
    ]


def test_bn_score_is_the_largest_abs_gamma_over_the_group_bns():
    [scores] = bn_scores(Tied(), GROUPS)
    assert scores.tolist() == [1.0, 2.0, 0.0]
    assert [s.tolist() for s in RANKINGS.get("bn")().scores(Tied(), GROUPS)] == [[1.0, 2.0, 0.0]]


def test_tied_channels_aggregate_by_max_mean_or_sum():
    """γ of bn_a = (0.5, −2, 0) and bn_b = (−1, 0.25, 0) hold the same three channels."""
    assert bn_scores(Tied(), GROUPS, "mean")[0].tolist() == [0.75, 1.125, 0.0]
    assert bn_scores(Tied(), GROUPS, "sum")[0].tolist() == [1.5, 2.25, 0.0]
    assert [s.tolist() for s in RANKINGS.get("bn-mean")().scores(Tied(), GROUPS)] == [[0.75, 1.125, 0.0]]
    assert [s.tolist() for s in RANKINGS.get("bn-sum")().scores(Tied(), GROUPS)] == [[1.5, 2.25, 0.0]]
    with pytest.raises(ConfigError, match="unknown aggregation 'median'"):
        bn_scores(Tied(), GROUPS, "median")


def test_filter_norm_is_the_largest_mean_abs_weight_of_the_producing_filters():
    [scores] = filter_norms(Tied(), GROUPS)
    assert scores.tolist() == [2.0, 2.0, 2.0]  # max(2, 0.5), max(0, 2), max(2, 0.5)


def test_legr_is_the_affine_map_of_the_bn_scores_and_needs_a_search_of_these_layers():
    legr = RANKINGS.get("legr")()
    learned = {"groups": ["a"], "alpha": [2.0], "kappa": [0.5]}
    assert [s.tolist() for s in legr.scores(Tied(), GROUPS, learned)] == [[2.5, 4.5, 0.5]]
    assert [s.tolist() for s in affine_scores([np.array([1.0, 3.0]), np.array([0.0])], [0.5, 2.0], [1.0, 0.0])] == \
        [[1.5, 2.5], [0.0]]
    with pytest.raises(ConfigError, match="needs a search first: run `slimcore rank RUN --ranking legr`"):
        legr.scores(Tied(), GROUPS, None)
    with pytest.raises(ConfigError, match="made for other layers"):
        legr.scores(Tied(), GROUPS, {**learned, "groups": ["b"]})


def test_tpp_ranking_puts_exactly_the_chosen_filters_first_and_marks_their_boundary():
    state = {"masks": {"a": torch.tensor([True, False, True])}}  # TPP chose filter 1 of conv a
    scores = RANKINGS.get("tpp")().scores(Tied(), GROUPS, {"penalty": "tpp", "state": state})
    [s] = scores
    assert s[1] < 1.0 <= s[0] and s[2] >= 1.0  # |γ| max over bn_a, bn_b: 1, 2, 0 → 2 + 0 and 1 + 0 for the rest
    assert s.tolist() == [2.0, 2.0 / 3.0, 1.0]
    assert RANKINGS.get("tpp")().landmarks() == [1.0]
    with pytest.raises(ConfigError, match="needs a run trained with --penalty tpp \\(this run used 'l1'\\)"):
        RANKINGS.get("tpp")().scores(Tied(), GROUPS, {"penalty": "l1", "state": {}})
