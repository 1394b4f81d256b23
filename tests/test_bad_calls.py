"""Wrong types given to check and bench, and a device clock that returns no time: each fails its test with
a message that names the argument and what it takes, never an error from deep inside the plugin."""

from __future__ import annotations

import pytest

BAD_CALLS = """
import pytest

pytestmark = pytest.mark.accel(framework="numpy")

def test_bench_not_callable(accel_device):
    accel_device.bench(42)

def test_bench_name_not_text(accel_device):
    accel_device.bench(sum, [1], name=3)

def test_check_object(accel_device):
    accel_device.check(object())

def test_check_name_not_text(accel_device):
    accel_device.check(accel_device.randn(3), name=["x"])

def test_check_rtol_text(accel_device):
    accel_device.check(accel_device.randn(3), rtol="big")

def test_check_atol_negative(accel_device):
    accel_device.check(accel_device.randn(3), atol=-1.0)

@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0])
def test_timer_gives_no_time(accel_device, monkeypatch, value):
    from pytest_accel.frameworks.base import HostClockTimer
    monkeypatch.setattr(HostClockTimer, "time_batch", lambda self, call, n: value)
    accel_device.bench(sum, [1, 2])
"""

EXPECTED = [
    "*TypeError: accel_device.bench(fn, *args): fn must be callable, got 42 (int)*",
    "*TypeError: accel_device.bench(..., name=3): name must be a string",
    "*TypeError: cannot compare a value of type object*",
    "*TypeError: accel_device.check(..., name=?'x'?): name must be a string",
    "*TypeError: accel_device.check(..., rtol='big'): rtol must be a number >= 0",
    "*TypeError: accel_device.check(..., atol=-1.0): atol must be a number >= 0",
    "*TimingError: the device timer returned nan seconds for a batch of 1 call(s)*",
    "*TimingError: the device timer returned inf seconds*",
    "*TimingError: the device timer returned -1.0 seconds*",
]


def test_bad_calls_fail_their_tests_with_clear_messages(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(BAD_CALLS)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(failed=9)
    output = result.stdout.str()
    for pattern in EXPECTED:
        result.stdout.fnmatch_lines([pattern])
    assert "INTERNALERROR" not in output


def test_a_failing_check_shows_the_tests_line_not_the_plugins_source(pytester: pytest.Pytester) -> None:
    """pytest's __tracebackhide__: the user's line and the message, not the check method's body."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.accel(framework="numpy")
        def test_name(accel_device):
            accel_device.check(accel_device.randn(3), rtol="big")
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert 'accel_device.check(accel_device.randn(3), rtol="big")' in output
    assert "def check(" not in output and "_check_arguments(name, rtol, atol)" not in output


def test_a_parity_failure_shows_the_users_line_and_the_message(
    pytester: pytest.Pytester, two_jax_devices_hosted
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.accel(framework="jax")
        def test_one_off(accel_device):
            x = accel_device.randn(8)
            if accel_device.index == 1:
                x = x.at[3].add(1.0)
            accel_device.check(x, name="x")
        """
    )
    result = two_jax_devices_hosted("--accel=all", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    lines = result.outlines
    start = next(
        i for i, line in enumerate(lines) if "test_one_off[jax-cpu:1-float32]" in line and "___" in line
    )
    end = next(i for i, line in enumerate(lines) if "ParityError" in line and line.startswith("test_"))
    failure = "\n".join(lines[start:end])
    assert '>       accel_device.check(x, name="x")' in failure
    assert "1 of 8 elements (12.5%) are off" in failure
    assert "def check(" not in failure and "compare_leaf_maps" not in failure
    assert end - start < 25  # the message, not the plugin's source


def test_a_failing_assert_parity_prints_no_line_of_the_plugins_source(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import numpy as np
        from pytest_accel import assert_parity

        def test_two_results():
            assert_parity(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 3.0]))
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert ">       assert_parity(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 3.0]))" in output
    assert "1 of 3 elements" in output
    assert "compare_nests" not in output and "def assert_parity" not in output
