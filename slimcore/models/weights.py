"""Starting weights from a file or from torchvision: read safely, fitted to a model key by key, every misfit named.

`read_weights` accepts a state_dict, a slimcore training checkpoint (its model), or a dict that holds a state_dict
under "state_dict" or "model" (Lightning's and many training scripts' layout); DataParallel's "module." prefix is
dropped. Files are loaded with `weights_only=True`: a pickle that would run code is refused.
`fit_weights` loads what fits; a classifier head of another class count (and, for published weights, a stem the zoo
adapted to small inputs) keeps the model's own initialisation, and says so. Anything else that does not fit is one
CheckpointError naming the missing, unexpected and mis-shaped keys.
"""
from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Iterable

import torch
from torch import nn

from slimcore.errors import CheckpointError, ConfigError

# zoo model → (torchvision builder name, the stem module the zoo replaces for small inputs)
PUBLISHED = {"tv_resnet18": ("resnet18", "conv1"), "tv_resnet34": ("resnet34", "conv1"),
             "tv_resnet50": ("resnet50", "conv1"), "tv_mobilenet_v2": ("mobilenet_v2", "features.0.0")}
DOWNLOAD_TIMEOUT_S = 20.0
SHOWN = 3  # keys listed per kind of misfit


def read_weights(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The state_dict a weights file holds (CheckpointError for a missing, truncated or unsafe file)."""
    from slimcore.store.checkpoints import TRAIN_FORMAT, load_checkpoint

    state = load_checkpoint(path)
    if state.get("format") == TRAIN_FORMAT or (not _is_state_dict(state) and isinstance(state.get("model"), dict)):
        state = state["model"]
    elif not _is_state_dict(state) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not _is_state_dict(state) or not state:
        raise CheckpointError(f"{path} holds no state_dict (a mapping of parameter names to tensors); save one with "
                              "torch.save(model.state_dict(), FILE).")
    if all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def _is_state_dict(value: object) -> bool:
    return isinstance(value, dict) and bool(value) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in value.items())


def classifier_head(model: nn.Module) -> str | None:
    """The name of the model's last linear layer (its classifier head), if it has one."""
    names = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    return names[-1] if names else None


def _shape(t: torch.Tensor) -> str:
    return "×".join(str(v) for v in t.shape) or "scalar"


def _listed(keys: list[str]) -> str:
    shown = ", ".join(keys[:SHOWN])
    return shown + (f" (+{len(keys) - SHOWN} more)" if len(keys) > SHOWN else "")


def fit_weights(model: nn.Module, state: dict[str, torch.Tensor], source: str, model_name: str,
                replaceable: Iterable[str] = ()) -> list[str]:
    """Loads `state` into `model` in place; returns notes on what kept the model's own initialisation."""
    own = model.state_dict()
    head = classifier_head(model)
    keep_own: dict[str, str] = {}  # module → why it keeps its own initialisation
    misshaped = [k for k in own if k in state and state[k].shape != own[k].shape]
    for key in misshaped:
        module = key.rpartition(".")[0]
        if module == head and state[key].shape[1:] == own[key].shape[1:]:
            keep_own[module] = (f"classifier head {head!r} replaced: the weights have {state[key].shape[0]} "
                                f"classes, the data {own[key].shape[0]}; it starts from a fresh initialisation")
        elif module in replaceable:
            keep_own[module] = (f"stem {module!r} re-initialised: the weights' {_shape(state[key])} kernel does "
                                f"not fit this input's {_shape(own[key])} (the zoo's stem for small images)")
    misfit = [k for k in misshaped if k.rpartition(".")[0] not in keep_own]
    # BN's num_batches_tracked counter is bookkeeping, not a weight: files written without it still fit.
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected or misfit:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing key(s) {_listed(missing)}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key(s) {_listed(unexpected)}")
        if misfit:
            shown = [f"{k} (file {_shape(state[k])}, model {_shape(own[k])})" for k in misfit]
            parts.append(f"{len(misfit)} mis-shaped key(s) {_listed(shown)}")
        raise CheckpointError(f"{source} does not fit model {model_name!r}: {'; '.join(parts)}. The file holds "
                              "another architecture's weights: pick the --model it was trained as.")
    merged = {k: (own[k] if k.rpartition(".")[0] in keep_own or k not in state else state[k].to(own[k].dtype))
              for k in own}
    model.load_state_dict(merged)
    return list(keep_own.values())


def published_weights_path(model_name: str) -> tuple[str, Path]:
    """(download URL, local file) of torchvision's published weights for a zoo model (ConfigError if it has none)."""
    if model_name not in PUBLISHED:
        raise ConfigError(f"model {model_name!r} has no published weights; --pretrained applies to "
                          f"{', '.join(sorted(PUBLISHED))}; start other models from a file with --init-from FILE.")
    import torchvision

    weights = torchvision.models.get_model_weights(PUBLISHED[model_name][0]).DEFAULT
    return weights.url, Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name


def published_weights(model_name: str) -> dict[str, torch.Tensor]:
    """torchvision's published ImageNet weights: read from torch's hub cache, downloaded there when missing."""
    url, path = published_weights_path(model_name)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        previous = socket.getdefaulttimeout()
        socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
        try:
            torch.hub.download_url_to_file(url, str(path), progress=False)
        except Exception as e:  # no network, DNS, HTTP errors, timeouts
            raise CheckpointError(f"could not download {model_name}'s published weights from {url} ({type(e).__name__}"
                                  f"); on a machine without network, fetch that file elsewhere and put it at {path} "
                                  "(or set TORCH_HOME), then run again.") from e
        finally:
            socket.setdefaulttimeout(previous)
    return read_weights(path)


def starting_weights(model: nn.Module, model_name: str, init_from: str | None, pretrained: bool) -> list[str]:
    """Applies a run's starting weights (a file, or the published ones) to a freshly built model; returns notes."""
    if init_from:
        return fit_weights(model, read_weights(init_from), init_from, model_name)
    if pretrained:
        stem = PUBLISHED.get(model_name, (None, None))[1]
        url, _ = published_weights_path(model_name)
        return fit_weights(model, published_weights(model_name), f"published weights {url}", model_name,
                           replaceable=[stem] if stem else [])
    return []
