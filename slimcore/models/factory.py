"""The model registry and the two calls that make up the model zoo's public surface."""
from __future__ import annotations

import fnmatch
from typing import Callable

from torch import nn

from slimcore.errors import ConfigError
from slimcore.registry import Registry

ModelFn = Callable[[int, int, int], nn.Module]

# Each entry: fn(num_classes, in_channels, image_size) -> nn.Module, registered by its family file.
MODELS: Registry[ModelFn] = Registry("model")


def _check_positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}.")


def create_model(name: str, num_classes: int, in_channels: int, image_size: int) -> nn.Module:
    """Build the registered model `name` for inputs of in_channels × image_size × image_size."""
    constructor = MODELS.get(name)
    _check_positive("num_classes", num_classes)
    _check_positive("in_channels", in_channels)
    _check_positive("image_size", image_size)
    return constructor(num_classes, in_channels, image_size)


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names, optionally filtered by a shell-style pattern such as '*resnet*'."""
    return [n for n in MODELS.names() if fnmatch.fnmatchcase(n, pattern)]
