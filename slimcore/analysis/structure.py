"""What pruning needs to know about a network once: its channel groups, constant consumers and layer shapes;
and the models a plan yields from it: the physically pruned model (what the preview evaluates and commit
exports) and the masked model (same shapes, removed weights zeroed), the test oracle the cut must equal. Both
first give each consumer back what the removed channels contributed (`slimcore.pruning.math.compensate`)."""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from slimcore.analysis.calibration import ExactBetaCompensation
from slimcore.analysis.constants import constant_uses
from slimcore.analysis.graph import channel_groups
from slimcore.analysis.shapes import layer_shapes
from slimcore.pruning.math.absorb import ConstantUse
from slimcore.pruning.math.cut import cut, mask
from slimcore.pruning.math.flops import LayerShape, network_macs
from slimcore.pruning.math.groups import ChannelGroup, removed_per_module
from slimcore.pruning.math.plan import Plan


@dataclass(frozen=True)
class Structure:
    """The architecture facts of one model (weights not included): groups, constant uses, shapes, BN sizes."""

    input_shape: tuple[int, int, int]
    groups: list[ChannelGroup]
    uses: dict[str, list[ConstantUse]]
    shapes: list[LayerShape]
    bn_sizes: dict[str, int]  # every BN layer in module order → its width

    def removed(self, plan: Plan) -> dict[tuple[str, str], np.ndarray]:
        """(layer, kind) → removed indices of a plan."""
        return removed_per_module(self.groups, plan)

    def macs(self, plan: Plan) -> int:
        """MACs per sample of the model a plan yields (FLOPs = 2 × this)."""
        return network_macs(self.shapes, self.removed(plan))

    def widths(self, plan: Plan) -> dict[str, int]:
        """Every BN layer's width after the plan."""
        removed = self.removed(plan)
        return {bn: n - len(removed.get((bn, "bn"), ())) for bn, n in self.bn_sizes.items()}

    def empty_plan(self) -> Plan:
        return tuple(() for _ in self.groups)

    @property
    def consumers(self) -> list[str]:
        """The layers that read a prunable channel as input (what compensation may change)."""
        return sorted({it.module for g in self.groups for it in g.items if it.kind == "in"})


def analyse(model: nn.Module, input_shape: tuple[int, int, int]) -> Structure:
    """Traces `model` (unchanged) for inputs of shape (C, H, W)."""
    example = torch.zeros(1, *input_shape)
    return Structure(
        input_shape=tuple(int(v) for v in input_shape),
        groups=channel_groups(model, example),
        uses=constant_uses(model),
        shapes=layer_shapes(model, input_shape),
        bn_sizes={n: m.num_features for n, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)},
    )


def compensated_copy(model: nn.Module, structure: Structure, plan: Plan, compensation=None) -> tuple[nn.Module, dict]:
    """A copy of `model` in eval mode whose consumers were given back what the plan's removed channels gave them."""
    work = copy.deepcopy(model).eval()
    removed = structure.removed(plan)
    (compensation or ExactBetaCompensation(structure.input_shape)).apply(work, removed)
    return work, removed


def masked_model(model: nn.Module, structure: Structure, plan: Plan, compensation=None) -> nn.Module:
    """The oracle: compensated, then every weight of a removed channel zeroed (same shapes as `model`)."""
    work, removed = compensated_copy(model, structure, plan, compensation)
    mask(work, removed)
    return work


def pruned_model(model: nn.Module, structure: Structure, plan: Plan, compensation=None) -> nn.Module:
    """The model of a plan: compensated, then the removed channels cut out for real (previewed, then committed).
    `compensation` defaults to exact act(β) (`ExactBetaCompensation`); a trained run passes its calibrated one."""
    work, removed = compensated_copy(model, structure, plan, compensation)
    cut(work, removed)
    return work


def why_unprunable(model: nn.Module, input_shape: tuple[int, int, int], model_name: str | None = None) -> str | None:
    """Why the pruning engine cannot handle `model` (None when it finds channel groups to prune): no BatchNorm
    to take γ from, an operation Torch-Pruning's graph or torch.fx cannot trace, or BN layers whose channels are
    all tied to something that cannot shrink. A built-in zoo model (`model_name`) is known prunable: not traced."""
    from slimcore.errors import SlimcoreError
    from slimcore.models import MODELS

    if model_name is not None and model_name in MODELS and model_name not in MODELS.plugins:
        return None
    if not any(isinstance(m, nn.BatchNorm2d) for m in model.modules()):
        return ("it has no BatchNorm2d layer, so there is no γ to rank channels by; put a BatchNorm2d after the "
                "convolutions to prune")
    was_training = model.training
    try:
        structure = analyse(model, input_shape)
    except SlimcoreError as e:
        return str(e).rstrip(".")
    except Exception as e:  # Torch-Pruning's tracer raises whatever the model's forward raises under it
        return (f"Torch-Pruning's dependency graph cannot trace it ({type(e).__name__}: {str(e)[:160]}); "
                "pruning needs a forward pass made of traceable tensor operations")
    finally:
        model.train(was_training)
    if not structure.groups:
        return ("none of its BatchNorm2d layers follows a convolution whose output channels can be removed "
                "(each is tied to a layer that cannot shrink)")
    return None
