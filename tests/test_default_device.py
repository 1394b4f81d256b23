"""Issue 15.3: an unmodified JAX test module (no device fixture: its tests call jnp directly), adopted by
one conftest line, runs once per device under JAX's default-device context, its asserts as parity
checks: the same outcomes per device as the suite's own, and a bug of one device caught."""

from __future__ import annotations

import pytest
from conftest import HAS_JAX
from session_host import runpytest_hosted

pytestmark = pytest.mark.skipif(not HAS_JAX, reason="jax is not installed (its CPU devices are used)")

LIBRARY = """
def scale(x):
    out = x * 2.0
    if next(iter(x.devices())).id == 1:  # a defect of JAX's second device only, inside the suite's rtol
        out = out * 1.01
    return out
"""

TESTS = """
import jax.numpy as jnp
import numpy as np

import mylib


def test_scale():
    x = jnp.arange(8.0)
    np.testing.assert_allclose(mylib.scale(x), np.arange(8.0) * 2, rtol=0.05)


def test_sum():
    np.testing.assert_allclose(np.asarray(jnp.ones(4)).sum(), 4.0)

"""

ADOPTING_CONFTEST = "from pytest_accel.adoption import each_test_on_every_device  # noqa: F401\n"
ADOPTING_INI = "[pytest]\naccel_framework = jax\naccel_capture_asserts = true\n"


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
    monkeypatch.setenv("PYTHONPATH", str(pytester.path))
    pytester.makepyfile(mylib=LIBRARY, test_mylib=TESTS)
    return pytester


def test_each_test_runs_on_every_device_and_its_asserts_are_parity_checks(suite: pytest.Pytester) -> None:
    own = runpytest_hosted(suite, "-p", "no:randomly")
    own.assert_outcomes(passed=2)  # the suite as it is: one device, its own asserts pass
    suite.makeconftest(ADOPTING_CONFTEST)
    suite.makeini(ADOPTING_INI)
    adopted = runpytest_hosted(suite, "--accel=all", "--accel-no-bench", "-rA", "-p", "no:randomly")
    adopted.stdout.fnmatch_lines(
        [
            "PASSED test_mylib.py::test_scale[[]jax-cpu-float32[]]",
            "PASSED test_mylib.py::test_sum[[]jax-cpu-float32[]]",
            "PASSED test_mylib.py::test_sum[[]jax-cpu:1-float32[]]",
        ],
        consecutive=False,
    )
    # the device-only bug passes the suite's own rtol but not parity with the reference device
    adopted.stdout.fnmatch_lines(["*parity failed on jax cpu:1 (float32) against the reference cpu*"])
    adopted.stdout.fnmatch_lines(["*check 'assert_allclose#0'*"])
    adopted.stdout.fnmatch_lines(["FAILED test_mylib.py::test_scale[[]jax-cpu:1-float32[]]*"])
    adopted.assert_outcomes(passed=3, failed=1)


def test_a_failure_about_where_data_lives_is_named_a_portability_failure(pytester: pytest.Pytester) -> None:
    """What cannot run on a device (torch's .numpy() of a GPU tensor) says it is not device-portable;
    assertion failures and errors that are not about devices keep their own message alone."""
    from pytest_accel.adoption.default_device import ON_THE_DEVICE, portability_note

    item = pytester.getitem("def test_func(): pass")
    item.stash[ON_THE_DEVICE] = "torch cuda:0"
    gpu_to_numpy = TypeError("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() first.")
    note = portability_note(item, gpu_to_numpy)
    assert note is not None and note.startswith("device-portability failure on torch cuda:0")
    assert "Tensor.cpu()" in note
    assert portability_note(item, AssertionError("values differ on cuda")) is None
    assert portability_note(item, ValueError("bad shape (3,)")) is None
    del item.stash[ON_THE_DEVICE]
    assert portability_note(item, gpu_to_numpy) is None  # not run under the switch
