"""Channel groups as data (`slimcore.pruning.math.groups`): what a plan removes from every module of every group, in
each module's own channel numbers."""
from __future__ import annotations

import numpy as np

from slimcore.pruning.math.groups import ChannelGroup, GroupItem, removed_per_module


def item(module: str, kind: str, idxs, root_idxs=None) -> GroupItem:
    idxs = np.asarray(idxs, dtype=np.int64)
    return GroupItem(module, kind, idxs, idxs if root_idxs is None else np.asarray(root_idxs, dtype=np.int64))


# c1 → bn1 → (cat with c3's output) → c5; c3 and c4 meet in a residual add normalised by bn3 and bn4.
GROUPS = [
    ChannelGroup("c1", 4, (item("c1", "out", range(4)), item("bn1", "bn", range(4)), item("c5", "in", range(4)))),
    ChannelGroup("c3", 2, (item("c3", "out", [0, 1]), item("bn3", "bn", [0, 1]), item("c4", "out", [0, 1]),
                           item("bn4", "bn", [0, 1]), item("c5", "in", [4, 5], root_idxs=[0, 1]))),
]


def test_a_plan_removes_the_same_root_channels_from_every_item_in_its_own_numbering():
    removed = removed_per_module(GROUPS, ((3, 1), (1,)))
    assert {k: v.tolist() for k, v in removed.items()} == {
        ("c1", "out"): [1, 3], ("bn1", "bn"): [1, 3],
        ("c3", "out"): [1], ("bn3", "bn"): [1], ("c4", "out"): [1], ("bn4", "bn"): [1],
        ("c5", "in"): [1, 3, 5],  # both groups' shares of the concatenation, merged and sorted
    }


def test_the_empty_plan_removes_nothing_and_an_empty_group_share_adds_no_entry():
    assert removed_per_module(GROUPS, ((), ())) == {}
    assert set(removed_per_module(GROUPS, ((), (0,)))) == {("c3", "out"), ("bn3", "bn"), ("c4", "out"), ("bn4", "bn"),
                                                           ("c5", "in")}


def test_bns_lists_each_bn_of_a_group_once_in_item_order():
    doubled = ChannelGroup("c", 2, (item("bn_b", "bn", [0]), item("c", "out", [0, 1]), item("bn_a", "bn", [0, 1]),
                                    item("bn_b", "bn", [1])))
    assert doubled.bns == ["bn_b", "bn_a"] and GROUPS[1].bns == ["bn3", "bn4"]
