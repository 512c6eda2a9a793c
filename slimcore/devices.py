"""Picks the device a run trains on: cuda > mps > cpu unless the user names one."""
from __future__ import annotations

import torch

from slimcore.errors import ConfigError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def check_device_spec(spec: object) -> str:
    """`auto`, or a device name with an optional index (`cuda:1`); anything else raises ConfigError."""
    base, colon, index = spec.partition(":") if isinstance(spec, str) else ("", "", "")
    if base not in DEVICE_CHOICES or (colon and (base == "auto" or not (index.isascii() and index.isdigit())
                                                 or len(index) > 3)):
        raise ConfigError(f"unknown device {spec!r}; valid: {', '.join(DEVICE_CHOICES)}, or cuda:N for GPU number N.")
    return spec


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
    base = check_device_spec(spec).split(":")[0]
    if base == "auto":
        return torch.device(available_devices()[0])
    if base not in available_devices():
        raise ConfigError(f"device {spec!r} is not available on this machine; available: "
                          f"{', '.join(available_devices())}. Use --device auto.")
    return torch.device(spec)


def device_summary() -> str:
    """One line for the user: which accelerator training will use."""
    found = available_devices()
    if "cuda" in found:
        return f"GPU: {torch.cuda.get_device_name(0)} (cuda)"
    if "mps" in found:
        return "GPU: Apple MPS"
    return "No GPU found: training runs on the CPU"
