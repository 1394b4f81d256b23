"""The device paths, checked on the CPU (issue 19): scalars stay 0-d under torch, which CUDA errors break a
device, JAX's GPU preallocation, the CPU-only sessions of the project's tests, MPS without float64, torch
against JAX in low-precision types, multi-host JAX discovery, and the first call's clock under JAX."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from conftest import CPU_ONLY_ENVIRONMENT, needs_jax, needs_torch, pin_sessions_to_cpu

from pytest_accel.device.registry import DeviceRegistry, FrameworkState
from pytest_accel.device.spec import parse_spec, select_devices
from pytest_accel.frameworks import cuda_errors, framework_notes, jax_memory
from pytest_accel.frameworks.cuda_errors import OUT_OF_MEMORY, RETEST, UNUSABLE, classify_accelerator_error
from pytest_accel.frameworks.discovery import DeviceInfo, Discovery
from pytest_accel.parity.tolerances import Tolerance
from pytest_accel.timing.measure import measure

# -- 1. scalars stay 0-d ---------------------------------------------------------------------------------

SCALARS = """
import pytest

@pytest.mark.accel(framework=["torch", "jax", "numpy"])
def test_scalars(accel_device):
    made = {
        "randn()": accel_device.randn(),
        "asarray(2.0)": accel_device.asarray(2.0),
        "randint(0, 5)": accel_device.randint(0, 5),
    }
    shapes = {name: tuple(value.shape) for name, value in made.items()}
    assert shapes == dict.fromkeys(made, ()), shapes
    accel_device.check(made["asarray(2.0)"] * 3, name="scalar")
"""


@needs_torch
@needs_jax
def test_scalars_are_0d_under_every_framework(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SCALARS)
    result = pytester.runpytest("--accel-no-bench", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


# -- 3. which CUDA errors leave the device unusable -----------------------------------------------------


@pytest.mark.parametrize(
    ("type_name", "code", "message", "kind"),
    [
        ("AcceleratorError", 700, "CUDA error: an illegal memory access was encountered", UNUSABLE),
        ("AcceleratorError", 710, "CUDA error: device-side assert triggered", UNUSABLE),
        ("AcceleratorError", 719, "CUDA error: unspecified launch failure", UNUSABLE),
        ("AcceleratorError", 209, "CUDA error: no kernel image is available for execution", None),
        ("AcceleratorError", 9, "CUDA error: invalid configuration argument", None),
        ("AcceleratorError", 2, "CUDA error: out of memory", OUT_OF_MEMORY),
        ("AcceleratorError", None, "CUDA error: device-side assert triggered", UNUSABLE),
        ("AcceleratorError", 12345, "CUDA error: something new", RETEST),
        ("AcceleratorError", None, "MPS: something failed", RETEST),
        ("RuntimeError", None, "CUDA error: device-side assert triggered", UNUSABLE),
        ("RuntimeError", None, "shapes do not match", None),
        ("ValueError", None, "device-side assert in a ValueError's text", None),
    ],
)
def test_accelerator_errors_are_classified_by_code(
    type_name: str, code: int | None, message: str, kind: str | None
) -> None:
    assert classify_accelerator_error(type_name, code, message) == kind


def _accelerator_error(code: int | None, message: str) -> BaseException:
    import torch

    error = torch.AcceleratorError(message)
    if code is not None:
        error.error_code = code  # what torch sets on the errors it raises
    return error


@needs_torch
def test_torch_marks_only_sticky_errors_and_names_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from pytest_accel.device.faults import inspect_failure
    from pytest_accel.frameworks import torch_adapter
    from pytest_accel.frameworks.torch_adapter import ADAPTER

    cpu = torch.device("cpu")
    assert ADAPTER.fault_kind(_accelerator_error(209, "CUDA error: no kernel image"), cpu) is None
    assert ADAPTER.fault_kind(_accelerator_error(9, "CUDA error: invalid configuration"), cpu) is None
    assert ADAPTER.fault_kind(_accelerator_error(2, "CUDA error: out of memory"), cpu) == OUT_OF_MEMORY
    assert ADAPTER.fault_kind(_accelerator_error(716, "CUDA error: misaligned"), cpu) == UNUSABLE
    unknown = _accelerator_error(12345, "CUDA error: something new")
    assert ADAPTER.fault_kind(unknown, cpu) is None  # re-tested: the device still computes

    def broken_probe(device: Any) -> None:
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    with monkeypatch.context() as patched:
        patched.setattr(torch_adapter, "_probe", broken_probe)
        assert ADAPTER.fault_kind(unknown, cpu) == UNUSABLE  # re-tested: the tiny kernel fails
    illegal = _accelerator_error(700, "CUDA error: an illegal memory access was encountered\nmore")
    fault = inspect_failure(illegal, ADAPTER, cpu, "torch", "cuda:0", "test_x.py::test_x")
    assert fault is not None and fault.kind == UNUSABLE
    assert (
        "an illegal memory access was encountered [CUDA error 700 (cudaErrorIllegalAddress)]" in fault.message
    )
    assert cuda_errors.code_text(12345) == "CUDA error 12345"


# -- 4. JAX's preallocation ------------------------------------------------------------------------------


def test_preallocation_is_turned_off_unless_the_user_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    unset: dict[str, str] = {}
    assert jax_memory.share_gpu_memory(unset) and unset == {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
    for name in jax_memory.USER_CHOICES:
        chosen = {name: "0.5" if "FRACTION" in name else "true"}
        assert not jax_memory.share_gpu_memory(dict(chosen)) and chosen == {name: chosen[name]}
    gpu = Discovery("jax", "0", [DeviceInfo("jax", "cuda", 0, "GPU")])
    cpu_only = Discovery("jax", "0", [DeviceInfo("jax", "cpu", 0, "CPU")])
    monkeypatch.setattr(jax_memory, "_set_here", True)
    note = framework_notes("jax", gpu)
    assert len(note) == 1 and "PREALLOCATE=false set by pytest-accel" in note[0] and len(note[0]) <= 150
    assert framework_notes("jax", cpu_only) == [] and framework_notes("torch", gpu) == []
    registry = DeviceRegistry(parse_spec("all"))
    registry.frameworks["jax"] = FrameworkState(gpu, None, select_devices(registry.spec, gpu))
    assert f"  {note[0]}" in registry.header_lines()
    monkeypatch.setattr(jax_memory, "_set_here", False)
    assert jax_memory.jax_memory_note(gpu) is None


LOAD_JAX_THROUGH_THE_PLUGIN = """
import json, os, sys
from pytest_accel.frameworks import load_adapter
imported_before = "jax" in sys.modules
adapter = load_adapter("jax")
found = adapter.discover() if sys.argv[1:] == ["discover"] else None
import jax
print(json.dumps({
    "imported_before": imported_before,
    "preallocate": os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE"),
    "fraction": os.environ.get("XLA_PYTHON_CLIENT_MEM_FRACTION"),
    "platforms": jax.config.jax_platforms,
    "kinds": sorted({device.kind for device in found.devices}) if found else None,
}))
"""


def _load_jax_in_a_subprocess(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", LOAD_JAX_THROUGH_THE_PLUGIN, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@needs_jax
def test_the_plugin_sets_preallocation_before_jax_and_the_sessions_see_only_the_cpu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in jax_memory.USER_CHOICES:
        monkeypatch.delenv(name, raising=False)
    # A GPU machine's environment names JAX's CUDA platform and a GPU; the tests' sessions must not see it.
    monkeypatch.setenv("JAX_PLATFORMS", "cuda,cpu")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    pin_sessions_to_cpu(monkeypatch)
    seen = _load_jax_in_a_subprocess("discover")
    assert seen["imported_before"] is False and seen["preallocate"] == "false"
    assert seen["platforms"] == "cpu" and seen["kinds"] == ["cpu"]

    monkeypatch.setenv("XLA_PYTHON_CLIENT_MEM_FRACTION", "0.3")  # the user's choice: left alone
    seen = _load_jax_in_a_subprocess()
    assert seen["preallocate"] is None and seen["fraction"] == "0.3"


# -- 6. the project's tests start CPU-only sessions ------------------------------------------------------


def test_sessions_started_by_these_tests_see_only_the_cpu() -> None:
    assert {name: os.environ.get(name) for name in CPU_ONLY_ENVIRONMENT} == CPU_ONLY_ENVIRONMENT
    assert "PYTEST_ACCEL" not in os.environ
    gpu_tests = (Path(__file__).parent / "test_gpu.py").read_text(encoding="utf-8")
    assert "\npytestmark = pytest.mark.gpu" in gpu_tests  # the GPU tests keep the GPUs


GPU_CHECK = Path(__file__).resolve().parent.parent / "scripts" / "gpu-check.sh"
# The header's name of each stage limit of scripts/gpu-check.sh
LIMIT_LABELS = {
    "INSTALL_S": "install {}",
    "ENTRY_POINT_S": "entry point 2 x {}",
    "VERSIONS_S": "versions {}",
    "XDIST_CHECK_S": "xdist check {}",
    "GPU_TESTS_S": "GPU tests {}",
    "EXAMPLES_S": "examples {}",
    "GATE_S": "gate {}",
    "BENCH_TIMING_S": "GPU benchmarks {} +",
    "BENCH_COMPARE_S": "+ {} |",
    "PROJECT_TESTS_S": "the project's other tests {}",
}


def test_gpu_check_stage_limits_add_up_to_what_its_header_promises() -> None:
    text = GPU_CHECK.read_text(encoding="utf-8")
    header = text.split("\nset -uo pipefail")[0]
    limits = {name: int(value) for name, value in re.findall(r"\b([A-Z_]+_S)=(\d+)", text)}
    assert set(limits) == set(LIMIT_LABELS)
    for name, label in LIMIT_LABELS.items():
        assert label.format(limits[name]) in header, name
    total = sum(limits.values()) + limits["ENTRY_POINT_S"]  # the entry point is checked twice
    promised = int(re.search(r"they add up to (\d+)", header).group(1))
    assert total == promised <= 590  # 10 s left for the commands between stages
    setup = limits["INSTALL_S"] + 2 * limits["ENTRY_POINT_S"] + limits["VERSIONS_S"] + limits["XDIST_CHECK_S"]
    assert f"setup {setup} (" in header
    last_stage = text[text.index('stage "$PROJECT_TESTS_S"') :]
    assert "JAX_PLATFORMS=cpu CUDA_VISIBLE_DEVICES= " in last_stage


# -- 7. MPS has no float64 --------------------------------------------------------------------------------


@needs_torch
def test_the_kernel_follows_the_devices_float64_support() -> None:
    from pytest_accel.parity import error_kernels

    assert not error_kernels.float64_support("mps")
    assert error_kernels.float64_support("cuda") and error_kernels.float64_support("cpu")
    assert error_kernels.torch_kernel("cuda", "float64") is error_kernels._TorchOps
    assert error_kernels.torch_kernel("mps", "float32") is error_kernels._TorchFloat32Ops
    assert error_kernels.torch_kernel("mps", "float64") is error_kernels._NumpyOps  # on the host
    assert error_kernels.torch_kernel("mps", "complex128") is error_kernels._NumpyOps


def _no_float64_mode() -> Any:
    """A torch function mode that fails like MPS wherever a float64 tensor is made."""
    import torch
    from torch.overrides import TorchFunctionMode

    class NoFloat64(TorchFunctionMode):
        def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            out = func(*args, **(kwargs or {}))
            if isinstance(out, torch.Tensor) and out.dtype in (torch.float64, torch.complex128):
                raise TypeError(f"{func.__name__} made a float64 tensor, which MPS cannot hold")
            return out

    return NoFloat64()


@needs_torch
@pytest.mark.parametrize("case", ["ordinary", "overflowing difference"])
def test_a_device_without_float64_compares_without_float64(
    monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    import torch

    from pytest_accel.parity import error_kernels

    rng = np.random.default_rng(7)
    reference = rng.standard_normal(500).astype(np.float32)
    actual = reference.copy()
    actual[3] += 1.0
    if case == "overflowing difference":  # float32's difference overflows: redone in float64 (on the host)
        actual[[0, 1]], reference[[0, 1]] = [3e38, -3e38], [-3e38, 3e38]
    tol = Tolerance(rtol=1e-5, atol=1e-30)
    on_host = error_kernels.error_stats(actual, reference, tol, 5, "float32")
    monkeypatch.setattr(error_kernels, "float64_support", lambda device_type: False)
    with _no_float64_mode():
        without = error_kernels.error_stats(torch.from_numpy(actual), reference, tol, 5, "float32")
    # with values near 3e38 in the reference, the element off by 1.0 is well within the tolerance
    assert without.count_off == on_host.count_off == (2 if case != "ordinary" else 1)
    assert without.worst == pytest.approx(on_host.worst, rel=1e-4) and np.isfinite(without.worst)
    assert without.scale == pytest.approx(on_host.scale, rel=1e-4)


# -- 8. torch against JAX in bfloat16 and float8 ---------------------------------------------------------


@needs_torch
@needs_jax
@pytest.mark.parametrize("dtype", ["bfloat16", "float8_e4m3fn"])
def test_torch_against_jax_in_low_precision(dtype: str) -> None:
    import jax.numpy as jnp
    import torch

    import pytest_accel
    from pytest_accel.parity.error_kernels import error_stats

    values = np.array([0.5, -1.25, 2.0, 3.5], dtype=np.float32)
    other = values.copy()
    other[2] = 3.0
    as_torch = torch.from_numpy(values).to(getattr(torch, dtype))
    same, different = jnp.asarray(values, dtype=dtype), jnp.asarray(other, dtype=dtype)
    tol = Tolerance(rtol=0.08, atol=1e-30)
    # The device path gets the JAX array as it is (as for a tensor kept on its GPU): through float32.
    assert error_stats(as_torch, same, tol, 5, dtype).count_off == 0
    assert error_stats(as_torch, different, tol, 5, dtype).count_off == 1
    pytest_accel.assert_parity(as_torch, same)
    with pytest.raises(pytest_accel.ParityError, match="1 of 4 elements"):
        pytest_accel.assert_parity(as_torch, different)


# -- 9. multi-host JAX -----------------------------------------------------------------------------------


def _fake_devices(hosts: int, per_host: int) -> list[Any]:
    return [
        SimpleNamespace(process_index=host, id=host * per_host + i, device_kind="TPU v5 lite")
        for host in range(hosts)
        for i in range(per_host)
    ]


@needs_jax
def test_jax_discovery_keeps_this_hosts_devices_and_misses_none_of_the_others() -> None:
    from pytest_accel.frameworks.jax_adapter import add_local_devices

    found = Discovery("jax", "0")
    add_local_devices(found, "tpu", _fake_devices(hosts=4, per_host=2), process_index=2, probe=lambda d: None)
    assert [d.name for d in found.devices] == ["tpu:0", "tpu:1"] and found.missing == {}

    def probe(device: Any) -> None:
        if device.id == 5:
            raise RuntimeError("probe computed 0.0")

    broken = Discovery("jax", "0")
    add_local_devices(broken, "cuda", _fake_devices(hosts=2, per_host=3), process_index=1, probe=probe)
    assert [d.name for d in broken.devices] == ["cuda:0", "cuda:1"]
    assert list(broken.missing) == ["cuda:2"]
    none_here = Discovery("jax", "0")
    add_local_devices(none_here, "cuda", _fake_devices(hosts=2, per_host=1), process_index=5, probe=probe)
    assert none_here.devices == [] and none_here.missing == {"cuda": "no working jax gpu device"}


# -- 10. JAX's first call is timed after the inputs are on the device -------------------------------------


class _RecordingTimer:
    method = "perf_counter"

    def __init__(self, events: list[str]) -> None:
        self.events = events

    def wait_for_inputs(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.events.append("wait for inputs")

    def time_batch(self, call: Any, n: int) -> float:
        self.events.append("clock starts")
        for _ in range(n):
            call()
        return 1e-3 * n


def test_the_first_call_is_timed_after_waiting_for_the_inputs() -> None:
    events: list[str] = []
    measure(lambda: events.append("call"), (), {}, _RecordingTimer(events), name="f", budget_s=0.001)
    assert events[:3] == ["wait for inputs", "clock starts", "call"]


@needs_jax
def test_jax_waits_for_every_input_array_before_the_first_call(monkeypatch: pytest.MonkeyPatch) -> None:
    import jax
    import jax.numpy as jnp

    from pytest_accel.frameworks.jax_adapter import JaxWaitTimer

    events: list[Any] = []
    wait = jax.block_until_ready

    def recording_wait(values: Any) -> Any:
        events.append(("wait", {id(leaf) for leaf in jax.tree_util.tree_leaves(values)}))
        return wait(values)

    monkeypatch.setattr(jax, "block_until_ready", recording_wait)
    x, y = jnp.ones(4), jnp.arange(4.0)

    def add(a: Any, b: Any = None) -> Any:
        events.append("call")
        return a + b

    measure(add, (x,), {"b": y}, JaxWaitTimer(wait_for_all=True), name="add", budget_s=0.001)
    assert events[0] == ("wait", {id(x), id(y)}) and events[1] == "call"
