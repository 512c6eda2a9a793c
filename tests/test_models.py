"""Model zoo: every registered model builds, runs forward + backward at 8, 28 and 32 px, and is prunable."""
from __future__ import annotations

import pytest
import torch
from torch import fx, nn

from slimcore.errors import ConfigError
from slimcore.models import MODELS, create_model, list_models

# mnist5k, cifar, digits. Batch 2 keeps even tv_resnet50 near 0.4 s a case on 2 CPU cores (none needs `slow`).
SHAPES = [(1, 28), (3, 32), (1, 8)]
CASES = [pytest.param(n, c, s, id=f"{n}-{c}x{s}x{s}") for n in list_models() for c, s in SHAPES]


@pytest.mark.parametrize("name,in_channels,image_size", CASES)
def test_forward_backward(name: str, in_channels: int, image_size: int) -> None:
    torch.manual_seed(0)
    model = create_model(name, num_classes=7, in_channels=in_channels, image_size=image_size)
    x = torch.randn(2, in_channels, image_size, image_size)
    out = model(x)
    assert out.shape == (2, 7)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())


@pytest.mark.parametrize("name", list_models())
def test_graph_is_standard_modules_and_convs_before_bn_have_no_bias(name: str) -> None:
    model = create_model(name, num_classes=10, in_channels=3, image_size=32)
    graph = fx.symbolic_trace(model).graph  # fails on lambdas / custom ops pruning could not follow
    modules = dict(model.named_modules())
    for node in graph.nodes:
        if node.op == "call_module" and isinstance(modules[node.target], nn.BatchNorm2d):
            (producer,) = node.all_input_nodes
            if producer.op == "call_module" and isinstance(modules[producer.target], nn.Conv2d):
                assert modules[producer.target].bias is None, f"{producer.target} feeds BN but has a bias"


@pytest.mark.parametrize("name,gamma", [("slimnet", 0.5), ("vgg11", 0.5), ("densenet40", 0.5), ("resnet20", 1.0)])
def test_bn_gamma_init(name: str, gamma: float) -> None:
    model = create_model(name, 10, 3, 32)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            assert torch.all(m.weight == gamma) and torch.all(m.bias == 0)


def test_pools_are_skipped_for_small_inputs() -> None:
    pools = lambda m: sum(isinstance(x, nn.MaxPool2d) for x in m.modules())  # noqa: E731
    assert pools(create_model("vgg16", 10, 3, 32)) == 4
    assert pools(create_model("vgg16", 10, 1, 8)) == 3


def test_small_image_stems_keep_resolution() -> None:
    resnet = create_model("tv_resnet18", 10, 1, 28)
    assert resnet.conv1.stride == (1, 1) and isinstance(resnet.maxpool, nn.Identity) and resnet.conv1.in_channels == 1
    assert create_model("tv_mobilenet_v2", 10, 3, 32).features[0][0].stride == (1, 1)
    big = create_model("tv_resnet18", 10, 1, 224)
    assert big.conv1.stride == (2, 2) and isinstance(big.maxpool, nn.MaxPool2d)


def test_unknown_model_lists_valid_names() -> None:
    with pytest.raises(ConfigError) as info:
        create_model("resnet21", 10, 3, 32)
    message = str(info.value)
    assert "resnet21" in message and all(name in message for name in list_models())


@pytest.mark.parametrize("bad", [{"num_classes": 0}, {"in_channels": -1}, {"image_size": 2.5}])
def test_bad_sizes_are_config_errors(bad: dict) -> None:
    args = {"num_classes": 10, "in_channels": 3, "image_size": 32} | bad
    with pytest.raises(ConfigError):
        create_model("slimnet", **args)


def test_registry_contents_and_pattern() -> None:
    expected = {"slimnet", "vgg11", "vgg13", "vgg16", "vgg19", "resnet20", "resnet56", "densenet40", "mobilenetv2",
                "tv_resnet18", "tv_resnet34", "tv_resnet50", "tv_mobilenet_v2", "tv_vgg11_bn"}
    assert set(MODELS.names()) == expected
    assert list_models("vgg*") == ["vgg11", "vgg13", "vgg16", "vgg19"]
    assert all(MODELS.describe(n) for n in expected)


def test_a_cfg_becomes_conv_bn_relu_blocks_and_the_pools_that_fit() -> None:
    from slimcore.models.layers import cfg_features, last_width

    cfg = [4, "M", 8, "M", "M", 6]
    features = cfg_features(cfg, in_channels=2, image_size=4)  # 4 → 2 → 1: the third pool would reach 0×0
    kinds = [type(m).__name__ for m in features]
    assert kinds == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d",
                     "Conv2d", "BatchNorm2d", "ReLU"]
    convs = [(m.in_channels, m.out_channels, m.bias) for m in features if isinstance(m, nn.Conv2d)]
    assert convs == [(2, 4, None), (4, 8, None), (8, 6, None)] and last_width(cfg) == 6
    assert features.eval()(torch.zeros(1, 2, 4, 4)).shape == (1, 6, 1, 1)
