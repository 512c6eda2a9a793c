"""Sparsity penalties on BN γ, one registered class per file: none, l1, lp, tl1, ista, tpp."""
from slimcore.penalties.base import PENALTIES, Penalty, PenaltyContext, bn_layers, get
from slimcore.analysis.consumers import bn_consumers

# importing a penalty's module registers it
from slimcore.penalties import ista, l1, lp, none, tl1, tpp  # noqa: E402,F401

describe = PENALTIES.describe

__all__ = ["PENALTIES", "Penalty", "PenaltyContext", "bn_consumers", "bn_layers", "describe", "get"]
