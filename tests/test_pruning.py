"""The pruning package's public names (`slimcore/pruning/__init__.py`): each resolves to the object of the module
that defines it, on first use, so that `import slimcore` (which re-exports load_pruned) does not load torch."""
from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import slimcore.pruning as pruning


@pytest.mark.parametrize("name", pruning.__all__)
def test_every_public_name_is_its_defining_module_object(name):
    module = pruning._EXPORTS.get(name, "slimcore.pruning.loader")
    assert getattr(pruning, name) is getattr(importlib.import_module(module), name)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'slimcore.pruning' has no attribute 'commitx'"):
        pruning.commitx  # noqa: B018


def test_importing_slimcore_does_not_load_torch():
    code = ("import sys, slimcore, slimcore.pruning; assert callable(slimcore.load_pruned); "
            "print(sorted(m for m in ('torch', 'torchvision', 'torch_pruning') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
