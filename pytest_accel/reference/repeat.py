"""Determinism: the test body run a second time on the item's own device (a hidden pass, as the reference
pass is), its checks compared bit for bit with the first run's (``fixture/determinism.py``)."""

from __future__ import annotations

import time

import pytest

from pytest_accel.errors import ParityError
from pytest_accel.fixture.accel_device import AccelDevice, item_run
from pytest_accel.fixture.determinism import bitwise_differences
from pytest_accel.fixture.factory import PARAM_KEY, item_test_key
from pytest_accel.fixture.item_run import ROLE_REPEAT_PASS, ItemRun
from pytest_accel.reference.hidden_pass import run_reference_pass


def check_repeatable(item: pytest.Function, device: AccelDevice) -> None:
    """After a body that passed, with determinism asked for: run it again on the same device; fail
    naming the checks whose bits differ, and by how much."""
    __tracebackhide__ = True
    run = item_run(device)
    if not run.keep_checks or run.record is None:
        return
    param = item.stash[PARAM_KEY]
    second = AccelDevice(
        ItemRun(run.adapter, ROLE_REPEAT_PASS, device.name),
        info=param.device,
        dtype_name=param.dtype,
        options=param.options,
        test_key=item_test_key(item, param),
    )
    started = time.perf_counter()
    try:
        checks = run_reference_pass(item, second)
    finally:
        run.hidden_s += time.perf_counter() - started  # call_s stays the body's own time
    names, lines = bitwise_differences(run.recorded, checks)
    run.record.deterministic = not names
    if names:
        raise ParityError(
            "\n".join(
                [
                    f"determinism failed on {device.framework} {device.name} ({device.dtype_name}): a second "
                    f"run of the test on the same device gave other bits in check(s) "
                    f"{', '.join(repr(n) for n in names)}:",
                    *(f"  {line}" for line in lines),
                    "Deterministic kernels: torch.use_deterministic_algorithms(True) (CUDA also needs "
                    "CUBLAS_WORKSPACE_CONFIG=:4096:8), XLA_FLAGS=--xla_gpu_deterministic_ops=true for JAX.",
                ]
            )
        )
