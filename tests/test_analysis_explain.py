"""Channel groups in words (`slimcore.analysis.explain`): the reason a group is tied and where a removed
channel's constant goes follow from the layers and operations the group holds."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from slimcore.analysis.explain import constant_goes, describe_groups, layer_type, tie_sentences
from slimcore.analysis.structure import analyse
from slimcore.models import create_model
from slimcore.pruning.math.bias_map import BiasMapConv2d
from slimcore.pruning.math.groups import ChannelGroup, GroupItem

from conftest import CatNet, ResidualNet


def by_name(model, shape=(3, 8, 8)) -> dict[str, dict]:
    return {g["name"]: g for g in describe_groups(model, analyse(model, shape))}


def test_a_residual_and_a_plain_group_say_why_they_are_tied():
    groups = by_name(ResidualNet())
    assert groups["conv0"]["ties"][0] == tie_sentences_for("add")  # then the flatten into fc
    assert groups["conv0"]["ties"][1].startswith("a flatten into a linear layer")
    assert groups["conv1"]["ties"][0].startswith("a plain chain")
    assert {row["layer"]: row["role"].split(" ")[0] for row in groups["conv0"]["layers"]} == {
        "conv0": "produces", "bn0": "normalises", "conv1": "reads", "conv2": "produces", "bn2": "normalises",
        "fc": "reads"}


def tie_sentences_for(kind: str) -> str:
    group = ChannelGroup("g", 2, (GroupItem("b", "bn", np.arange(2), np.arange(2)),), (kind,))
    return tie_sentences(group)[0]


def test_a_concatenation_and_a_depthwise_chain_are_named():
    assert any(t.startswith("a concatenation") for t in by_name(CatNet())["conv_b"]["ties"])
    mobile = describe_groups(*(lambda m: (m, analyse(m, (1, 8, 8))))(create_model("mobilenetv2", 10, 1, 8)))
    assert any("depthwise" in t for g in mobile for t in g["ties"])


def test_the_constant_goes_where_compensation_puts_it():
    """What the table says matches what `pruned_model` builds: a padded k×k reader gets a per-position map."""
    padded, pointwise = nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(4, 4, 1)
    assert "per-position map" in constant_goes(padded, "in")
    assert "per-position" not in constant_goes(pointwise, "in") and "bias" in constant_goes(pointwise, "in")
    assert constant_goes(nn.Linear(4, 2), "in") == "bias" and constant_goes(padded, "out") == "—"
    assert layer_type(padded) == "Conv2d 3×3 · padding 1" and layer_type(pointwise) == "Conv2d 1×1"


def test_every_padded_reader_named_so_becomes_a_bias_map_when_its_inputs_are_cut():
    from slimcore.analysis.structure import pruned_model

    torch.manual_seed(0)
    model = create_model("resnet20", 10, 1, 8).eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.bias.copy_(torch.rand(m.num_features) + 0.5)  # positive β: every removed channel reads > 0
    structure = analyse(model, (1, 8, 8))
    plan = tuple((0,) for _ in structure.groups)
    pruned = dict(pruned_model(model, structure, plan).named_modules())
    said = {row["layer"]: row["constant_goes"] for g in describe_groups(model, structure) for row in g["layers"]
            if row["role"].startswith("reads")}
    for layer, text in said.items():
        assert isinstance(pruned[layer], BiasMapConv2d) == ("per-position map" in text), layer
