"""Accelerators beyond CUDA: torch.accelerator's kinds (xpu, hpu, an out-of-tree backend), ROCm told
apart, JAX platforms by name; an absent xpu named in --accel is a usage error, like cuda. The parts that
take a device name run here on stand-in modules; the devices themselves are for scripts/gpu-check.sh."""

from __future__ import annotations

import types

import pytest
from conftest import needs_torch

from pytest_accel.device.spec import parse_spec
from pytest_accel.errors import AccelConfigError
from pytest_accel.frameworks.accelerators import (
    jax_hardware_name,
    jax_kind,
    torch_accelerator_count,
    torch_current_accelerator,
    torch_hardware_name,
    torch_kinds_to_discover,
)


def _torch(
    kind: str | None, count: int = 0, hip: str | None = None, names: str = "Device"
) -> types.SimpleNamespace:
    """A stand-in for the torch module: its accelerator API, version and backend modules."""
    accelerator = types.SimpleNamespace(
        is_available=lambda: kind is not None,
        current_accelerator=lambda: None if kind is None else types.SimpleNamespace(type=kind),
        device_count=lambda: count,
    )
    backend = types.SimpleNamespace(get_device_name=lambda index: f"{names} {index}")
    module = types.SimpleNamespace(
        __version__="2.9.0", accelerator=accelerator, version=types.SimpleNamespace(hip=hip)
    )
    if kind is not None:
        setattr(module, kind, backend)
    return module


def test_torch_accelerator_kinds_and_counts() -> None:
    xpu = _torch("xpu", count=2, names="Intel Data Center GPU Max")
    assert torch_current_accelerator(xpu) == "xpu"
    assert torch_accelerator_count(xpu, "xpu") == (2, "")
    assert torch_hardware_name(xpu, "xpu", 1) == "Intel Data Center GPU Max 1"
    count, reason = torch_accelerator_count(xpu, "hpu")
    assert count == 0 and reason == "no hpu device: this torch's accelerator is xpu (torch 2.9.0)"
    assert torch_kinds_to_discover(xpu) == ["xpu", "hpu"]
    out_of_tree = _torch("npu", count=1)  # a privateuse1 backend, under the name it registered
    assert torch_kinds_to_discover(out_of_tree) == ["xpu", "hpu", "npu"]
    none = _torch(None)
    assert torch_current_accelerator(none) is None
    assert "torch.accelerator sees no accelerator" in torch_accelerator_count(none, "xpu")[1]
    assert torch_current_accelerator(types.SimpleNamespace()) is None  # torch < 2.6: no accelerator API


def test_rocm_is_the_cuda_kind_and_says_so() -> None:
    rocm = _torch("cuda", count=1, hip="6.4.1", names="AMD Instinct MI300X")
    assert torch_hardware_name(rocm, "cuda", 0) == "AMD Instinct MI300X 0 (ROCm, HIP 6.4.1)"
    assert torch_hardware_name(_torch("cuda", count=1, names="NVIDIA H200"), "cuda", 0) == "NVIDIA H200 0"
    with pytest.raises(AccelConfigError, match="AMD GPUs are the 'cuda' kind here"):
        parse_spec("rocm")


def test_jax_platforms_by_name() -> None:
    assert [jax_kind(p) for p in ("cpu", "gpu", "cuda", "rocm", "tpu", "METAL")] == [
        "cpu",
        "cuda",
        "cuda",
        "cuda",
        "tpu",
        "mps",
    ]
    assert jax_kind("quantum") is None
    assert jax_hardware_name("AMD Instinct MI250X", "rocm 6.0") == "AMD Instinct MI250X (ROCm)"
    assert jax_hardware_name("NVIDIA H200", "cuda 12080") == "NVIDIA H200"


def test_new_kinds_parse_as_cuda_does() -> None:
    spec = parse_spec("cpu,xpu:1,hpu")
    assert [str(r) for r in spec.requests] == ["cpu", "xpu:1", "hpu"]


@needs_torch
def test_an_absent_xpu_is_a_usage_error_with_the_reason(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.accel(framework="torch")
        def test_x(accel_device):
            accel_device.check(accel_device.randn(2))
        """
    )
    result = pytester.runpytest("--accel=cpu,xpu")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text = result.stderr.str()
    assert "--accel=cpu,xpu: torch has no xpu: no xpu device: torch.accelerator sees no accelerator" in text
    assert "Traceback" not in text
