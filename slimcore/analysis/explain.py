"""Channel groups in words, for teaching: which layers a group ties together and why (a residual add, a
concatenation, a depthwise conv, the flatten into a classifier), and where the constant of a removed channel goes
(`slimcore.pruning.math.compensate`: into a consumer's bias, plus a per-position map where zero padding makes the
consumer's response differ at the border)."""
from __future__ import annotations

from collections import Counter

from torch import nn

from slimcore.analysis.structure import Structure

ROLES = {"out": "produces them (filters removed)",
         "bn": "normalises them (γ, β removed; |γ| ranks them)",
         "dw": "depthwise: input and output channels go together",
         "in": "reads them (input weights removed)"}


def layer_type(module: nn.Module) -> str:
    """`Conv2d 3×3 · padding 1`, `Linear`, `BatchNorm2d`: what a reader needs to see why a constant lands where."""
    if isinstance(module, nn.Conv2d):
        k, p = module.kernel_size, module.padding
        text = f"Conv2d {k[0]}×{k[1]}" + (" depthwise" if module.groups > 1 else "")
        return text + (f" · padding {p[0]}" if isinstance(p, tuple) and any(p) else "")
    return type(module).__name__


def constant_goes(module: nn.Module, kind: str) -> str:
    """Where a removed channel's constant output ends up, seen from one layer of its group."""
    if kind != "in":
        return "—"
    if isinstance(module, nn.Linear):
        return "bias"
    padded = isinstance(module.padding, tuple) and any(module.padding) and max(module.kernel_size) > 1
    if padded:
        return "bias + per-position map (zero padding at the border)"
    return "bias (the same at every position)"


def tie_sentences(group) -> list[str]:
    """Why the group's layers are cut at the same indices, one sentence per kind of tie."""
    counts = Counter(group.ties)
    out = []
    if counts["add"]:
        out.append(f"a residual stream: {counts['add']} add(s) sum these channels, so every layer writing into the "
                   "stream and every layer reading it is cut at the same indices")
    if counts["concat"]:
        out.append(f"a concatenation: these channels are one slice of {counts['concat']} concatenated feature "
                   "map(s), and every later layer that reads the concatenation loses the same slice")
    dw = sum(1 for it in group.items if it.kind == "dw")
    if dw:
        out.append(f"{dw} depthwise conv(s): each channel has its own filter, so a channel removed before it is "
                   "removed after it too")
    if counts["flatten"]:
        out.append("a flatten into a linear layer: each channel is a block of the classifier's inputs")
    return out or ["a plain chain: one conv's output channels, its BN, and the layers that read them"]


def describe_groups(model: nn.Module, structure: Structure) -> list[dict]:
    """Every channel group as JSON: name, width, BN layers, why it is tied, and per layer its type, role and where a
    removed channel's constant goes."""
    modules = dict(model.named_modules())
    out = []
    for group in structure.groups:
        layers = []
        for item in group.items:
            module = modules[item.module]
            layers.append({"layer": item.module, "type": layer_type(module), "role": ROLES[item.kind],
                           "channels": int(len(item.idxs)), "constant_goes": constant_goes(module, item.kind)})
        out.append({"name": group.name, "width": group.width, "bns": group.bns, "ties": tie_sentences(group),
                    "layers": layers})
    return out
