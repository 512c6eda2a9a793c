"""A package of the suite's own, outside the zoo, registered through entry points the way an installed package
registers them: `slimtestpkg` with a model (a residual add and a concatenation) and a data set, in a temporary
folder that holds its `.dist-info` (what `pip install` would write), put on sys.path and PYTHONPATH."""
from __future__ import annotations

import os
import sys
import textwrap
from contextlib import contextmanager
from pathlib import Path

MODEL_SOURCE = '''
import torch
from torch import nn


class TwoPathNet(nn.Module):
    """A stem, a residual block (add) and two branches joined by a concatenation."""

    def __init__(self, num_classes, in_channels):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16),
                                  nn.ReLU())
        self.res = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16))
        self.left = nn.Sequential(nn.Conv2d(16, 12, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(12),
                                  nn.ReLU())
        self.right = nn.Sequential(nn.Conv2d(16, 8, 1, stride=2, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.head = nn.Linear(20, num_classes)

    def forward(self, x):
        x = self.stem(x)
        x = torch.relu(x + self.res(x))
        x = torch.cat([self.left(x), self.right(x)], 1)
        return self.head(x.mean((2, 3)))


def build(num_classes, in_channels, image_size):
    """two-path net of the test package (residual add + concatenation)"""
    return TwoPathNet(num_classes, in_channels)
'''

DATA_SOURCE = '''
def load_small_digits(root, seed, **options):
    """the digits, as a plugin data set"""
    from slimcore.data import load_dataset

    return load_dataset("digits", seed=seed)
'''


def write_package(folder: Path, name: str = "slimtestpkg", entry_points: dict | None = None,
                  files: dict | None = None) -> Path:
    """`folder/name/` (the code) and `folder/name-0.1.dist-info/` (its metadata and entry points)."""
    package = folder / name
    package.mkdir(parents=True, exist_ok=True)
    for file, source in (files or {"__init__.py": "", "models.py": MODEL_SOURCE, "data.py": DATA_SOURCE}).items():
        (package / file).write_text(textwrap.dedent(source))
    entry_points = entry_points if entry_points is not None else {
        "slimcore.models": {"twopath": f"{name}.models:build"},
        "slimcore.datasets": {"plugdigits": f"{name}.data:load_small_digits"}}
    info = folder / f"{name}-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()) + "\n" for group, eps in entry_points.items()))
    return folder


@contextmanager
def installed(folder: Path):
    """The package in `folder` visible to this process (registries reloaded) and to the jobs it starts."""
    from slimcore import data, models, plugins

    before = {"model": set(models.MODELS.plugins), "dataset": set(data.DATASETS.plugins)}
    sys.path.insert(0, str(folder))
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(folder), old) if p)
    try:
        plugins.load()
        yield
    finally:
        sys.path.remove(str(folder))
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
        for registry, kind in ((models.MODELS, "model"), (data.DATASETS, "dataset")):
            for name in set(registry.plugins) - before[kind]:
                registry.unregister(name)
            registry.failures.clear()
        packages = {p.name for p in folder.iterdir() if p.is_dir() and not p.name.endswith(".dist-info")}
        for mod in [m for m in sys.modules if m.split(".")[0] in packages]:
            sys.modules.pop(mod, None)
