"""Channel groups from Torch-Pruning's dependency graph (`slimcore.analysis.graph`): channels a residual add or a
concatenation ties together are one group, in each layer's own numbering; the classifier's outputs are never a
group; layers that cannot be pruned are refused by name."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from slimcore.analysis.graph import channel_groups, is_depthwise, output_layer
from slimcore.errors import ConfigError

from conftest import CatNet, PlainNet, ResidualNet

X = torch.zeros(1, 3, 8, 8)


def summary(model: nn.Module) -> dict[str, tuple[int, set]]:
    """root → (width, {(module, kind, first index)}): what each group holds and where in that module it starts."""
    return {g.name: (g.width, {(it.module, it.kind, int(it.idxs[0])) for it in g.items}) for g in channel_groups(model, X)}


def test_a_residual_add_ties_both_producers_and_their_bns_into_one_group():
    assert summary(ResidualNet()) == {
        "conv0": (8, {("conv0", "out", 0), ("bn0", "bn", 0), ("conv1", "in", 0), ("conv2", "out", 0), ("bn2", "bn", 0),
                      ("fc", "in", 0)}),
        "conv1": (8, {("conv1", "out", 0), ("bn1", "bn", 0), ("conv2", "in", 0)}),
    }


def test_a_concatenation_gives_each_part_its_offset_in_the_reader():
    groups = summary(CatNet())
    assert groups["conv0"] == (8, {("conv0", "out", 0), ("bn0", "bn", 0), ("conv_b", "in", 0), ("conv_c", "in", 0)})
    assert groups["conv_b"] == (8, {("conv_b", "out", 0), ("bn_b", "bn", 0), ("conv_c", "in", 8)})  # after x's 8
    assert groups["conv_c"] == (8, {("conv_c", "out", 0), ("bn_c", "bn", 0), ("d1", "in", 0), ("d2", "in", 0)})
    for g in channel_groups(CatNet(), X):
        for it in g.items:
            assert it.root_idxs.tolist() == list(range(g.width)) and len(it.idxs) == g.width


def test_the_classifier_outputs_are_kept_and_the_model_is_left_as_it_was():
    model = PlainNet().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    groups = channel_groups(model, X)
    assert output_layer(model, X) == "classifier.1"
    assert [g.name for g in groups] == ["features.0", "features.3", "features.7"]  # module order, no classifier
    assert all(p.requires_grad for p in model.parameters()) and all(torch.equal(v, before[k])
                                                                     for k, v in model.state_dict().items())


def test_layers_that_cannot_be_pruned_are_refused_by_name():
    grouped = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Conv2d(8, 8, 3, groups=2), nn.BatchNorm2d(8),
                            nn.Flatten(), nn.LazyLinear(2))
    grouped(X)
    with pytest.raises(ConfigError, match="layer '2' is a grouped convolution .2 groups.; only plain and depthwise"):
        channel_groups(grouped, X)
    plain_bn = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8, affine=False), nn.Flatten(), nn.Linear(288, 2))
    with pytest.raises(ConfigError, match="BN layer '1' has no affine γ/β"):
        channel_groups(plain_bn, X)
    with pytest.raises(ConfigError, match="has no conv or linear layer to prune"):
        output_layer(nn.Sequential(nn.ReLU()), X)


def test_is_depthwise_means_one_group_per_output_channel():
    assert is_depthwise(nn.Conv2d(8, 8, 3, groups=8))
    assert not is_depthwise(nn.Conv2d(8, 8, 3, groups=2)) and not is_depthwise(nn.Conv2d(8, 8, 3))
    assert not is_depthwise(nn.Conv2d(1, 1, 3, groups=1)) and not is_depthwise(nn.Linear(8, 8))


def test_each_group_records_the_operations_that_tie_it():
    residual = {g.name: g.ties for g in channel_groups(ResidualNet(), X)}
    assert residual["conv0"].count("add") == 1 and "concat" not in residual["conv0"]
    assert residual["conv1"] == ()  # conv1 → bn1 → conv2: a plain chain
    cat = {g.name: g.ties for g in channel_groups(CatNet(), X)}
    assert "concat" in cat["conv0"] and "concat" in cat["conv_b"] and "add" not in cat["conv_b"]
    assert "add" not in cat["conv_c"]  # d1 + d2 add the readers' outputs, not these channels
