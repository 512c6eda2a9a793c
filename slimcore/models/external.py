"""Models from outside the zoo: a callable named `package.module:function` (or `path/to/file.py:function`) on the
command line, and the `slimcore.models` entry points of installed packages.

Either is a callable `(num_classes, in_channels, image_size) -> nn.Module`, the zoo's own signature. Only the CLI
and the Python API import code named this way; the app lists registered entry points only, so a browser field
never names code to import.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from typing import Callable

from slimcore.errors import ConfigError

SIGNATURE = "(num_classes, in_channels, image_size) -> nn.Module"


def is_spec(name: str) -> bool:
    """True for `module:function` or `file.py:function` (registered names hold no colon)."""
    return isinstance(name, str) and ":" in name


def signature_problem(fn: object) -> str | None:
    """Why `fn` cannot build a model when called with three positional integers (None when it can)."""
    if not callable(fn):
        return f"it is a {type(fn).__name__}, not a callable {SIGNATURE}"
    try:
        inspect.signature(fn).bind(10, 3, 32)
    except TypeError as e:
        return f"it cannot be called as {SIGNATURE} ({e})"
    except ValueError:  # a builtin without a signature: let the call decide
        return None
    return None


def _import_module(target: str, spec: str):
    if target.endswith(".py"):
        path = Path(target).expanduser()
        if not path.is_file():
            raise ConfigError(f"--model {spec}: there is no file {path}; give an existing .py file or an importable "
                              "module (package.module:function).")
        name = f"slimcore_user_model_{abs(hash(str(path.resolve())))}"
        if name in sys.modules:
            return sys.modules[name]
        loader_spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(loader_spec)
        try:
            loader_spec.loader.exec_module(module)
        except Exception as e:
            raise ConfigError(f"--model {spec}: {path} does not import ({type(e).__name__}: {e}); run `python "
                              f"{path}` to see the error.") from e
        sys.modules[name] = module
        return module
    if str(Path.cwd()) not in sys.path and "" not in sys.path:
        sys.path.insert(0, str(Path.cwd()))  # as `python -m` does: a module next to the user is importable
    try:
        return importlib.import_module(target)
    except Exception as e:
        raise ConfigError(f"--model {spec}: module {target!r} does not import ({type(e).__name__}: {e}); check "
                          "the name, and that its folder is the current one or on PYTHONPATH.") from e


def check_spec_form(spec: str) -> None:
    """ConfigError unless `spec` reads `package.module:function` or `path/to/file.py:function` (nothing imported)."""
    target, _, attr = spec.rpartition(":")
    if not target or not attr or not attr.replace(".", "").replace("_", "").isalnum():
        raise ConfigError(f"--model {spec!r} must read package.module:function or path/to/file.py:function.")


def resolve(spec: str) -> Callable:
    """The callable `spec` names, checked to take the zoo's signature (ConfigError naming what is wrong)."""
    check_spec_form(spec)
    target, _, attr = spec.rpartition(":")
    module = _import_module(target, spec)
    fn = module
    for part in attr.split("."):
        if not hasattr(fn, part):
            raise ConfigError(f"--model {spec}: {target} has no {attr!r}; define it there as a function "
                              f"{SIGNATURE}.")
        fn = getattr(fn, part)
    problem = signature_problem(fn)
    if problem:
        raise ConfigError(f"--model {spec}: {problem}.")
    return fn


def canonical(spec: str) -> str:
    """The spec as a run records it: a file path made absolute, so a background job finds the same file."""
    target, _, attr = spec.rpartition(":")
    if target.endswith(".py"):
        return f"{Path(target).expanduser().resolve()}:{attr}"
    return spec


def short_name(model: str) -> str:
    """A model's name as run ids and legends show it: a spec gives its function (`file.py:build` → `build`)."""
    return model.rpartition(":")[2] if is_spec(model) else model
