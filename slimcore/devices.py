"""Picks the device a run trains on: cuda > mps > cpu unless the user names one."""
from __future__ import annotations

import torch

from slimcore.errors import ConfigError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def available_devices() -> list[str]:
    """The devices this machine can train on, best first."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        found.append("mps")
    return found + ["cpu"]


def choose_device(spec: str = "auto") -> torch.device:
    """Resolves 'auto' to the best available device; refuses a named device that is absent."""
    base = spec.split(":")[0]
    if base not in DEVICE_CHOICES:
        raise ConfigError(f"unknown device {spec!r}: use one of {', '.join(DEVICE_CHOICES)} (e.g. cuda:1).")
    if base == "auto":
        return torch.device(available_devices()[0])
    if base not in available_devices():
        raise ConfigError(f"device {spec!r} is not available on this machine; available: "
                          f"{', '.join(available_devices())}. Use --device auto.")
    return torch.device(spec)
