"""Channel groups of a model: which channels of which layers must go together, found by Torch-Pruning's dependency graph."""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from slimcore.errors import ConfigError
from slimcore.pruning.math.groups import ChannelGroup, GroupItem


def is_depthwise(m: nn.Module) -> bool:
    """Torch-Pruning's own test: a conv with one group per output channel ties its input and output channels."""
    return isinstance(m, nn.Conv2d) and m.groups == m.out_channels and m.out_channels > 1


def _check_supported(model: nn.Module) -> None:
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d) and m.groups > 1 and not is_depthwise(m):
            raise ConfigError(f"layer {name!r} is a grouped convolution ({m.groups} groups); only plain and "
                              "depthwise convolutions can be pruned.")
        if isinstance(m, nn.BatchNorm2d) and not m.affine:
            raise ConfigError(f"BN layer {name!r} has no affine γ/β; ranking by |γ| needs affine BN layers.")


def _item_kind(dg, module: nn.Module, handler) -> str | None:
    if isinstance(module, nn.BatchNorm2d):
        return "bn"
    if is_depthwise(module):
        return "dw"
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        pruner = dg.get_pruner_of_module(module)
        return "out" if handler == pruner.prune_out_channels else "in"
    return None


def tie_of(op: object) -> str | None:
    """What one of Torch-Pruning's weightless stand-ins in a group means for the channels: an add (a residual
    stream), a concatenation, or a reshape (the flatten into a classifier); activations and pooling tie nothing."""
    kind = type(op).__name__
    if kind == "_ElementWiseOp" and "Add" in str(getattr(op, "_grad_fn", "")):
        return "add"
    if kind == "_ConcatOp":
        return "concat"
    if kind == "_ReshapeOp":
        return "flatten"
    return None


def build_dependency_graph(model: nn.Module, example_input: torch.Tensor):
    """A Torch-Pruning DependencyGraph of `model` (traced with autograd, so it runs with gradients on)."""
    import torch_pruning as tp

    with torch.enable_grad():
        return tp.DependencyGraph().build_dependency(model, example_input, verbose=False)


def output_layer(model: nn.Module, example_input: torch.Tensor) -> str:
    """Name of the last conv/linear the forward pass runs: its outputs are the classes and never pruned."""
    order: list[str] = []
    hooks = [m.register_forward_hook(lambda mod, i, o, n=name: order.append(n))
             for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad():
            model.eval()(example_input)
    finally:
        for h in hooks:
            h.remove()
    if not order:
        raise ConfigError(f"{type(model).__name__} has no conv or linear layer to prune.")
    return order[-1]


def channel_groups(model: nn.Module, example_input: torch.Tensor) -> list[ChannelGroup]:
    """Every group of output channels that holds a BN layer, in module order; the classifier's outputs are kept."""
    _check_supported(model)
    work = copy.deepcopy(model).eval()  # tracing switches to eval and keeps module references; leave `model` be
    for p in work.parameters():
        p.requires_grad_(True)  # Torch-Pruning traces the autograd graph
    names = {m: n for n, m in work.named_modules()}
    order = {n: i for i, n in enumerate(names.values())}
    last = dict(work.named_modules())[output_layer(work, example_input)]
    dg = build_dependency_graph(work, example_input)
    groups = []
    for group in dg.get_all_groups(ignored_layers=[last], root_module_types=(nn.Conv2d, nn.Linear)):
        root = group[0].dep.target.module
        items: list[GroupItem] = []
        ties: list[str] = []
        for item in group:
            module = item.dep.target.module
            if not isinstance(module, nn.Module) or module not in names:
                tie = tie_of(module)  # Torch-Pruning's stand-ins for cat/add/reshape carry no weights
                ties += [tie] if tie else []
                continue
            kind = _item_kind(dg, module, item.dep.handler)
            if kind is None:
                if any(True for _ in module.parameters(recurse=False)):
                    raise ConfigError(f"layer {names[module]!r} ({type(module).__name__}) shares channels with "
                                      "pruned layers but is not a conv, linear or BN layer; it cannot be pruned.")
                continue
            items.append(GroupItem(names[module], kind, np.asarray(item.idxs, dtype=np.int64),
                                   np.asarray(item.root_idxs, dtype=np.int64)))
        if not any(it.kind == "bn" for it in items):
            continue  # no γ to rank (e.g. hidden units of a linear classifier): kept whole
        width = dg.get_pruner_of_module(root).get_out_channels(root)
        groups.append(ChannelGroup(names[root], int(width), tuple(items), tuple(sorted(ties))))
    return sorted(groups, key=lambda g: order[g.name])
