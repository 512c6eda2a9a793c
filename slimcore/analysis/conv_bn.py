"""Which conv feeds each BN and what it costs (MACs), found by running one example through forward hooks."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from slimcore.analysis.shapes import shape_of
from slimcore.pruning.math.flops import layer_macs


@dataclass(frozen=True)
class ConvBN:
    """One BN layer with the Conv2d whose output it normalises (None if its input is not a conv output)."""

    bn: str
    conv: str | None
    macs: int  # per sample: the producing conv's MACs, else those of the conv run last before this BN, else 0


def conv_bn_pairs(model: nn.Module, sample_input: Tensor) -> list[ConvBN]:
    """One entry per BatchNorm2d in module order; runs sample_input[:1] in eval mode without touching BN stats."""
    names = {m: n for n, m in model.named_modules()}
    events: list[tuple[str, str, Tensor, int]] = []  # (kind, module name, tensor, macs) in execution order

    def on_conv(m: nn.Module, _inp: tuple, out: Tensor) -> None:
        events.append(("conv", names[m], out, layer_macs(shape_of(names[m], m, out))))

    def on_bn(m: nn.Module, inp: tuple) -> None:
        events.append(("bn", names[m], inp[0], 0))

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(on_conv))
        elif isinstance(m, nn.BatchNorm2d):
            handles.append(m.register_forward_pre_hook(on_bn))
    modes = {m: m.training for m in model.modules()}
    try:
        model.eval()  # eval: the probe must not move BN running statistics
        with torch.no_grad():
            model(sample_input[:1])
    finally:
        for h in handles:
            h.remove()
        for m, training in modes.items():
            m.training = training

    found: dict[str, ConvBN] = {}
    last_conv: tuple[str, Tensor, int] | None = None
    convs_seen: list[tuple[str, Tensor, int]] = []
    for kind, name, tensor, macs in events:
        if kind == "conv":
            last_conv = (name, tensor, macs)
            convs_seen.append(last_conv)
        elif name not in found:
            producer = next((c for c in reversed(convs_seen) if c[1] is tensor), None)
            if producer is not None:
                found[name] = ConvBN(name, producer[0], producer[2])
            else:
                found[name] = ConvBN(name, None, last_conv[2] if last_conv else 0)
    return [found.get(name, ConvBN(name, None, 0)) for name, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)]
