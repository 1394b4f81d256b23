"""Device faults through the frameworks' real exception classes: out of memory fails one test and the
next tests run; an error that leaves a device unusable fails that device's later tests at once, naming
the test that broke it, while other devices and frameworks go on. The summary and the saved file list
them. (On a GPU, tests/test_gpu.py provokes a real CUDA out-of-memory and a real device-side assert.)"""

from __future__ import annotations

import json

import pytest
from conftest import needs_jax, needs_torch

TORCH_FAULTS = """
import pytest
import torch

@pytest.mark.accel(framework="torch")
def test_a_out_of_memory(accel_device):
    held = accel_device.randn(1000)
    raise torch.OutOfMemoryError(
        "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.1 GiB of which "
        "1.20 GiB is free."
    )

@pytest.mark.accel(framework="torch")
def test_b_after_out_of_memory(accel_device):
    accel_device.check(accel_device.randn(3) * 2)

@pytest.mark.accel(framework="torch")
def test_b2_plain_failure_is_no_fault(accel_device):
    raise ValueError("an ordinary bug")

@pytest.mark.accel(framework="torch")
def test_c_device_side_assert(accel_device):
    raise torch.AcceleratorError("CUDA error: device-side assert triggered")

@pytest.mark.accel(framework="torch")
def test_d_on_the_broken_device(accel_device):
    accel_device.check(accel_device.randn(3))

@pytest.mark.accel(framework="numpy")
def test_e_other_framework_goes_on(accel_device):
    accel_device.check(accel_device.randn(3))
"""


@needs_torch
def test_torch_out_of_memory_and_unusable_device(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(TORCH_FAULTS)
    result = pytester.runpytest("-p", "no:randomly", "--accel-save=out.json")
    result.assert_outcomes(passed=2, failed=3, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*accel device fault*",
            "out of memory on torch cpu: OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB*"
            "the next tests run.",
        ]
    )
    result.stdout.fnmatch_lines(["torch cpu is unusable: AcceleratorError: CUDA error: device-side assert*"])
    result.stdout.fnmatch_lines(
        ["*torch cpu is unusable in this process since *test_c_device_side_assert*broke it*did not run*"]
    )
    result.stdout.fnmatch_lines(
        [
            "device faults:",
            "  out-of-memory: torch cpu in*",
            "*test_a_out_of_memory*",
            "  device-unusable: torch cpu in*",
            "*test_c_device_side_assert*",
        ]
    )
    assert "INTERNALERROR" not in result.stdout.str()
    assert "ValueError: an ordinary bug" in result.stdout.str()
    document = json.loads((pytester.path / "out.json").read_text())
    kinds = [
        (event["kind"], event["nodeid"].split("::")[1].split("[")[0]) for event in document["device_events"]
    ]
    assert kinds == [
        ("out-of-memory", "test_a_out_of_memory"),
        ("device-unusable", "test_c_device_side_assert"),
    ]
    by_test = {r["test"].split("::")[1]: r for r in document["results"]}
    assert by_test["test_d_on_the_broken_device"]["outcome"] == "error"
    assert by_test["test_b2_plain_failure_is_no_fault"]["fault"] is None
    assert by_test["test_e_other_framework_goes_on"]["outcome"] == "passed"


@needs_jax
def test_jax_resource_exhausted_is_out_of_memory_and_recovers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import jax
        import pytest

        @pytest.mark.accel(framework="jax")
        def test_a_exhausted(accel_device):
            raise jax.errors.JaxRuntimeError(
                "RESOURCE_EXHAUSTED: Out of memory while trying to allocate 4294967296 bytes."
            )

        @pytest.mark.accel(framework="jax")
        def test_b_next(accel_device):
            accel_device.check(accel_device.randn(4) + 1)

        @pytest.mark.accel(framework="jax")
        def test_c_other_runtime_error_is_no_fault(accel_device):
            raise jax.errors.JaxRuntimeError("INVALID_ARGUMENT: shapes do not match")
        """
    )
    result = pytester.runpytest("--accel-save=out.json")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["out of memory on jax cpu: JaxRuntimeError: RESOURCE_EXHAUSTED*"])
    document = json.loads((pytester.path / "out.json").read_text())
    assert [event["kind"] for event in document["device_events"]] == ["out-of-memory"]


def test_host_memory_error_is_out_of_memory_for_numpy(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.accel(framework="numpy")
        def test_a_host_oom(accel_device):
            raise MemoryError("Unable to allocate 8.00 TiB for an array with shape (1099511627776,)")

        @pytest.mark.accel(framework="numpy")
        def test_b_next(accel_device):
            accel_device.check(accel_device.randn(4))
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["out of memory on numpy cpu: MemoryError: Unable to allocate 8.00 TiB*"])
