"""Channel groups as data: which channels of which layers are removed together, and what a plan removes."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GroupItem:
    """One module's share of a group: `idxs[i]` of `module` moves with root channel `root_idxs[i]`."""

    module: str
    kind: str  # "out" / "in" channels of a conv or linear, "bn" channels, "dw": a depthwise conv's tied in/out
    idxs: np.ndarray
    root_idxs: np.ndarray


@dataclass(frozen=True)
class ChannelGroup:
    """Channels tied together (a residual stream, a concatenated feature, a conv-BN-conv chain), pruned as one."""

    name: str  # the root module, whose output channels index the group
    width: int
    items: tuple[GroupItem, ...]
    # Why the layers are tied, from the operations the dependency graph crossed: "add" (a residual add, once per
    # add), "concat" (a slice of a concatenation), "flatten" (flattened into a linear layer); depthwise convs show
    # as items of kind "dw".
    ties: tuple[str, ...] = ()

    @property
    def bns(self) -> list[str]:
        """The BN layers whose channels this group holds, in item order."""
        return list(dict.fromkeys(it.module for it in self.items if it.kind == "bn"))


def removed_per_module(groups: list[ChannelGroup], plan) -> dict[tuple[str, str], np.ndarray]:
    """(module, kind) → sorted module-local indices a plan removes, in the unpruned model's coordinates."""
    out: dict[tuple[str, str], list[np.ndarray]] = {}
    for group, removed in zip(groups, plan):
        if len(removed) == 0:
            continue
        gone = np.asarray(removed, dtype=np.int64)
        for it in group.items:
            hit = it.idxs[np.isin(it.root_idxs, gone)]
            if hit.size:
                out.setdefault((it.module, it.kind), []).append(hit)
    return {key: np.unique(np.concatenate(parts)) for key, parts in out.items()}
