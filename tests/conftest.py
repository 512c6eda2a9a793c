"""Shared fixtures and helpers: an isolated run store per test, a tiny fast training config, one trained run for
the whole session, and the small hand-made nets that the penalty and model-analysis tests share."""
from __future__ import annotations

import io
import os
import time

import pytest
import torch
import torch.nn.functional as F
from torch import nn


def pytest_configure(config):
    """Under `make test` two workers share the two cores: one intra-op thread each, not two that fight."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    """Files with slow cases first. Under `make test` xdist then hands files out by their number of tests, most
    first, and keeps this order among files with as many tests."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)  # stable: a file's tests keep their order


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    d = tmp_path / "runs"
    monkeypatch.setenv("SLIMCORE_RUNS_DIR", str(d))
    return d


@pytest.fixture
def tiny_config():
    """slimnet on the 8×8 digits: a whole epoch takes well under a second."""
    from slimcore.config import TrainConfig

    return TrainConfig(model="slimnet", dataset="digits", epochs=2, batch_size=64, lr=0.05,
                       snapshot_every=5, penalty="l1", lam=1e-3, penalty_params={"mode": "subgradient"})


def train_l1_digits(runs_dir, epochs: int = 2, model: str = "slimnet"):
    """(store, run id) of `model` trained on the 8×8 digits with an ℓ1 penalty on γ: the run the pruning tests cut."""
    from slimcore import jobs
    from slimcore.config import TrainConfig
    from slimcore.store import RunStore

    store = RunStore(runs_dir)
    config = TrainConfig(model=model, dataset="digits", epochs=epochs, penalty="l1", lam=1e-3,
                         penalty_params={"mode": "subgradient"})
    run_id = jobs.create_run(store, config)
    status, message = jobs.run_training(store, run_id, stop_flag={"requested": False})
    assert status == "finished", message
    return store, run_id


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory):
    """(store, run id) of `train_l1_digits`, trained once for the whole session: the run the pruning, job and CLI
    tests rank, preview, search and commit. Tests add jobs, curves and searches to its store but never change the
    training run itself. Never copy its folder while the store is open here (copying a SQLite file this process
    holds open drops its POSIX locks): a test that needs a store of its own trains one."""
    return train_l1_digits(tmp_path_factory.mktemp("digits-run") / "runs")


@pytest.fixture(scope="session")
def resnet20_digits_run(tmp_path_factory):
    """(store, run id) of resnet20 trained one epoch on the digits (residual streams: groups of several BN layers),
    for the tests that must hold beyond the default model; like `digits_run`, tests only add to its store."""
    return train_l1_digits(tmp_path_factory.mktemp("resnet20-digits-run") / "runs", epochs=1, model="resnet20")


def job_log(store, run_id: str) -> str:
    """The tail of a background job's log, for failure messages."""
    path = store.run_dir(run_id) / "job.log"
    return path.read_text(errors="replace")[-3000:] if path.exists() else "(no job.log)"


def wait_for_status(store, run_id: str, statuses, timeout: float = 300) -> dict:
    """The run once its status is one of `statuses`; fails with the job's log after `timeout` seconds
    (generous: on a loaded 2-core machine a cold `import torch` alone can take several seconds)."""
    from slimcore import jobs

    deadline = time.time() + timeout
    while time.time() < deadline:
        run = jobs.view(store, run_id)
        if run["status"] in statuses:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} stayed {jobs.view(store, run_id)['status']}; log:\n{job_log(store, run_id)}")


def valid_figure(fig):
    """`fig` after rebuilding it with plotly's validation on (the fast builders skip it), so a bad property fails."""
    import plotly.graph_objects as go

    assert isinstance(fig, go.Figure)
    go.Figure(fig.to_dict())
    return fig


def event_recorder():
    """An Observer that records the name of every hook the training loop calls, in order, in `.events`."""
    from slimcore.training.events import Observer

    class EventRecorder(Observer):
        def __init__(self) -> None:
            self.events: list[str] = []

    for hook in (name for name in vars(Observer) if name.startswith("on_")):
        setattr(EventRecorder, hook, lambda self, trainer, *args, _hook=hook: self.events.append(_hook))
    return EventRecorder()


@pytest.fixture
def one_thread():
    """Tiny tensors: intra-op threads only spin, and on a busy 2-core machine that made the zoo cases 10× slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def through_torch_save(state: dict) -> dict:
    """`state` after a round trip through torch.save / torch.load(weights_only=True), as a checkpoint holds it."""
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


# -- small hand-made nets (penalties, BN consumers, conv-BN pairs) --------------------------------------------
class PlainNet(nn.Module):
    """VGG-like: conv-BN-ReLU blocks, max pool, global pool, view, dropout, linear; every BN rescalable."""

    def __init__(self, in_channels: int = 3) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
            nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1),
        )
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Linear(16, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return self.classifier(x.view(x.size(0), -1))


class ResidualNet(nn.Module):
    """A stem and one basic block: the BNs feeding the residual add must be left alone."""

    def __init__(self) -> None:
        super().__init__()
        self.conv0, self.bn0 = nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
        self.conv1, self.bn1 = nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
        self.conv2, self.bn2 = nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn0(self.conv0(x)))
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = F.relu(out + x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(out, 1), 1))


class CatNet(nn.Module):
    """A dense-style concatenation, then one BN read by two convs whose outputs are added."""

    def __init__(self) -> None:
        super().__init__()
        self.conv0, self.bn0 = nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
        self.conv_b, self.bn_b = nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
        self.conv_c, self.bn_c = nn.Conv2d(16, 8, 1, bias=False), nn.BatchNorm2d(8)
        self.d1, self.d2 = nn.Conv2d(8, 8, 3, padding=1), nn.Conv2d(8, 8, 1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn0(self.conv0(x)))
        y = F.relu(self.bn_b(self.conv_b(x)))
        z = F.relu(self.bn_c(self.conv_c(torch.cat([x, y], 1))))
        z = F.max_pool2d(z, 2)
        z = self.d1(z) + self.d2(z)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(z, 1), 1))


class UntraceableNet(PlainNet):
    """Data-dependent control flow: torch.fx cannot trace it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            x = x * 2
        return super().forward(x)


# BN → the layers that read only its (ReLU'd, pooled) output, in each net above.
EXPECTED_CONSUMERS = {
    PlainNet: {"features.1": ["features.3"], "features.4": ["features.7"], "features.8": ["classifier.1"]},
    ResidualNet: {"bn0": [], "bn1": ["conv2"], "bn2": []},
    CatNet: {"bn0": [], "bn_b": [], "bn_c": ["d1", "d2"]},
}


def randomize_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial γ (either sign), β and running statistics so a wrong rescale shows in the outputs."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for bn in (m for m in model.modules() if isinstance(m, nn.BatchNorm2d)):
            n = bn.num_features
            bn.weight.copy_(torch.randn(n, generator=g))
            bn.bias.copy_(0.5 * torch.randn(n, generator=g))
            bn.running_mean.copy_(0.5 * torch.randn(n, generator=g))
            bn.running_var.copy_(0.5 + 1.5 * torch.rand(n, generator=g))
    return model


def make(cls, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return randomize_bn(cls(), seed)


def context(step: int = 0, lr: float = 0.1, shape=(2, 3, 8, 8), dtype=torch.float32):
    from slimcore.penalties import PenaltyContext

    return PenaltyContext(step=step, epoch=0, total_steps=1000, lr=lr, sample_input=torch.randn(*shape, dtype=dtype))


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def backward_once(model: nn.Module, seed: int = 1) -> None:
    torch.manual_seed(seed)
    model.train()
    model.zero_grad(set_to_none=True)
    model(torch.randn(4, 3, 8, 8)).square().mean().backward()


def random_pruned(name: str, shape=(1, 8, 8), quantile: float = 0.5) -> nn.Module:
    """Zoo model `name` with random BN γ, β, cut at the `quantile` of its |γ| scores (absorbed, really pruned)."""
    import numpy as np

    from slimcore.analysis.structure import analyse, pruned_model
    from slimcore.models import create_model
    from slimcore.pruning.math.plan import select
    from slimcore.pruning.math.rankings import bn_scores

    torch.manual_seed(1)
    model = create_model(name, 10, shape[0], shape[1])
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.num_features))
                m.bias.copy_(torch.randn(m.num_features))
    model.eval()
    structure = analyse(model, shape)
    scores = bn_scores(model, structure.groups)
    return pruned_model(model, structure, select(scores, float(np.quantile(np.concatenate(scores), quantile))).plan)


def zero_gammas(model: nn.Module, structure, plan) -> nn.Module:
    """The same network with γ = 0 (β kept) for every BN channel the plan removes: the function exact removal
    preserves."""
    import copy

    out = copy.deepcopy(model)
    modules = dict(out.named_modules())
    with torch.no_grad():
        for (name, kind), idx in structure.removed(plan).items():
            if kind == "bn":
                modules[name].weight[torch.as_tensor(idx)] = 0
    return out


# -- a net whose removed channels are constant everywhere (absorption, constant uses) -------------------------
class NoPadNet(nn.Module):
    """Unpadded convs so a constant channel is constant everywhere: conv→BN (fold), conv→cat (bias), a
    depthwise stage with ReLU6, and a flatten into a linear layer."""

    def __init__(self) -> None:
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8)
        self.c2, self.b2 = nn.Conv2d(8, 12, 1, bias=False), nn.BatchNorm2d(12)
        self.dw, self.bdw = nn.Conv2d(12, 12, 3, groups=12, bias=False), nn.BatchNorm2d(12)
        self.c3, self.b3 = nn.Conv2d(12, 6, 1, bias=False), nn.BatchNorm2d(6)
        self.fc = nn.Linear(6 * 6 * 6, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.b1(self.c1(x)))
        x = nn.functional.relu6(self.b2(self.c2(x)))
        x = nn.functional.relu6(self.bdw(self.dw(x)))
        x = torch.relu(self.b3(self.c3(x)))
        return self.fc(torch.flatten(x, 1))


def tensorboard_events(folder) -> dict:
    """{"scalars": {tag: [(step, value)]}, "histograms": {tag: [(step, HistogramValue)]}} of the event files in
    `folder`, read back with TensorBoard's own reader keeping every event (size guidance 0)."""
    from tensorboard.backend.event_processing import event_accumulator as ea

    acc = ea.EventAccumulator(str(folder), size_guidance={k: 0 for k in ea.DEFAULT_SIZE_GUIDANCE})
    acc.Reload()
    tags = acc.Tags()
    return {"scalars": {t: [(e.step, e.value) for e in acc.Scalars(t)] for t in tags["scalars"]},
            "histograms": {t: [(e.step, e.histogram_value) for e in acc.Histograms(t)] for t in tags["histograms"]}}
