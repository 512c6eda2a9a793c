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


def model_constructor(name: str) -> ModelFn:
    """The constructor of a registered model, or of `package.module:function` / `file.py:function` (imported)."""
    from slimcore.models import external

    return external.resolve(name) if external.is_spec(name) else MODELS.get(name)


def check_model_name(name: str) -> None:
    """Raises the ConfigError building `name` would raise before any weight exists (unknown name, a module that
    does not import, a missing callable, a callable of another signature)."""
    model_constructor(name)


def create_model(name: str, num_classes: int, in_channels: int, image_size: int) -> nn.Module:
    """Build model `name` (registered, or a `module:function` spec) for inputs of in_channels × size × size."""
    constructor = model_constructor(name)
    _check_positive("num_classes", num_classes)
    _check_positive("in_channels", in_channels)
    _check_positive("image_size", image_size)
    try:
        model = constructor(num_classes, in_channels, image_size)
    except Exception as e:
        if name in MODELS and name not in MODELS.plugins:
            raise
        raise ConfigError(f"model {name!r} failed to build for {num_classes} classes, {in_channels} channels, "
                          f"{image_size} px: {type(e).__name__}: {str(e)[:200]}") from e
    if not isinstance(model, nn.Module):
        raise ConfigError(f"model {name!r} returned a {type(model).__name__}, not a torch.nn.Module; its callable "
                          "must return the network it builds.")
    return model


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names, optionally filtered by a shell-style pattern such as '*resnet*'."""
    return [n for n in MODELS.names() if fnmatch.fnmatchcase(n, pattern)]
