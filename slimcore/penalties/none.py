"""The `none` penalty: plain training, no pressure on γ."""
from __future__ import annotations

from slimcore.penalties.base import PENALTIES, Penalty


@PENALTIES.register("none")
class NoPenalty(Penalty):
    """No penalty: train the network as it is (a baseline)."""

    name = "none"
    default_lam = 0.0
