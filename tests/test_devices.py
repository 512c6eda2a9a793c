"""Which device a run trains on (`slimcore.devices`): the spec is checked whatever the machine, `auto` is the best
present, and a named device that is absent is refused with what is available."""
from __future__ import annotations

import pytest
import torch

from slimcore import devices
from slimcore.errors import ConfigError


@pytest.mark.parametrize("spec", ["auto", "cpu", "cuda", "mps", "cuda:0", "cuda:12", "cpu:0"])
def test_valid_specs_pass_unchanged(spec):
    assert devices.check_device_spec(spec) == spec


@pytest.mark.parametrize("spec", ["", "gpu", "CUDA", "cuda:", "cuda:-1", "cuda:x", "cuda:1000", "auto:0", "cuda:١",
                                  " cpu", None, 0])
def test_invalid_specs_name_the_spec_and_the_choices(spec):
    with pytest.raises(ConfigError) as error:
        devices.check_device_spec(spec)
    assert str(error.value) == (f"unknown device {spec!r}; valid: auto, cpu, cuda, mps, or cuda:N for GPU number N.")


def test_auto_is_the_best_available_and_an_absent_device_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert devices.available_devices() == ["cpu"] and devices.choose_device("auto") == torch.device("cpu")
    assert devices.device_summary() == "No GPU found: training runs on the CPU"
    with pytest.raises(ConfigError, match=r"^device 'cuda:1' is not available on this machine; available: cpu\. "
                                          r"Use --device auto\.$"):
        devices.choose_device("cuda:1")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: "Test GPU")
    assert devices.available_devices() == ["cuda", "cpu"] and devices.choose_device("auto") == torch.device("cuda")
    assert devices.choose_device("cuda:1") == torch.device("cuda:1")
    assert devices.device_summary() == "GPU: Test GPU (cuda)"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert devices.available_devices() == ["mps", "cpu"] and devices.device_summary() == "GPU: Apple MPS"
