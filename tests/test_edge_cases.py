"""Edge cases found by review: each once gave a wrong verdict or a confusing failure."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import needs_torch

from pytest_accel import ParityError, assert_parity


@pytest.mark.parametrize("dtype", [np.uint16, np.uint32, np.uint64, np.int64])
def test_every_integer_width_compares_exactly(dtype: type) -> None:
    big = np.array([4_000_000_000 if np.iinfo(dtype).max > 4e9 else 60_000], dtype=dtype)
    assert_parity(big, big.copy())
    with pytest.raises(ParityError, match="compares exactly"):
        assert_parity(big + dtype(1), big)


def test_large_finite_values_that_overflow_float32_differences() -> None:
    with pytest.raises(ParityError) as caught, np.errstate(all="raise"):
        assert_parity(np.array([3e38], np.float32), np.array([-3e38], np.float32))
    text = str(caught.value)
    assert "NaN" not in text and "the worst error is" in text


def test_infinities_of_opposite_sign_are_named() -> None:
    with pytest.raises(ParityError, match="Inf of the opposite sign"):
        assert_parity(np.array([np.inf, 1.0]), np.array([-np.inf, 1.0]))


@needs_torch
def test_torch_views_with_negative_bit_are_compared() -> None:
    import torch

    value = (torch.ones(3) * (1 + 1j)).conj().imag
    assert_parity(value, -torch.ones(3))


FIXTURE_PATTERNS = """
import pytest

@pytest.fixture
def model(model, accel_device):  # overrides conftest's model and uses it
    return model * 2

@pytest.fixture
def scaled(request, accel_device):
    return accel_device.randn(4) * request.param

@pytest.fixture(params=[1, 2])
def power(request, accel_device):
    return request.param

@pytest.mark.accel(framework="jax")
def test_override(accel_device, model):
    accel_device.check(model)

@pytest.mark.accel(framework="jax")
@pytest.mark.parametrize("scaled", [2.0, 3.0], indirect=True)
def test_indirect(accel_device, scaled):
    accel_device.check(scaled)

@pytest.mark.accel(framework="jax")
def test_fixture_params(accel_device, power):
    accel_device.check(accel_device.randn(3) ** power)

@pytest.mark.accel(framework="jax")
def test_skipped_on_reference(accel_device):
    if accel_device.name == "cpu":
        pytest.skip("not supported on cpu")
    accel_device.check(accel_device.randn(2))
"""


def test_fixture_patterns_work_in_the_reference_pass_alone(
    pytester: pytest.Pytester, two_jax_devices_hosted
) -> None:
    """Overridden fixtures, request.param (indirect and fixture params) and skips, with only cpu:1 run."""
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def model(accel_device):
            return accel_device.randn(4)
        """
    )
    pytester.makepyfile(FIXTURE_PATTERNS)
    result = two_jax_devices_hosted("-k", "cpu:1", "-rs")
    result.assert_outcomes(passed=5, skipped=1, deselected=6)
    result.stdout.fnmatch_lines(
        ["*the reference pass on jax cpu (float32) skipped (not supported on cpu), so parity on this*"]
    )


def test_module_marker_merges_with_function_marker_and_spares_plain_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.accel(framework="numpy", dtypes=["float64"])

        def test_plain_helper():
            assert True

        @pytest.mark.accel(rtol=1e-3)
        def test_merged(accel_device):
            assert accel_device.framework == "numpy" and accel_device.dtype_name == "float64"
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_merged[[]numpy-cpu-float64[]] PASSED*"])


def test_ini_lists_accept_commas(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\naccel_framework = numpy\naccel_dtypes = float32,float64\n")
    pytester.makepyfile("def test_x(accel_device):\n    pass\n")
    pytester.runpytest().assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("devices=[]", "*names no device kind*"),
        ("rtol=float('nan')", "*must be a finite number*"),
        ("bench_budget=0", "*a time budget must be greater than 0*"),
    ],
)
def test_marker_values_that_make_no_sense_are_rejected(
    pytester: pytest.Pytester, marker: str, message: str
) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.accel(framework="numpy", {marker})
        def test_x(accel_device):
            pass
        """
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([message])


def test_infinite_budget_option_is_rejected(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest("--accel-bench-budget=inf")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*must be a finite number greater than 0*"])


def test_xfail_outcomes_are_recorded_apart(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.xfail(strict=False)
        @pytest.mark.accel(framework="numpy")
        def test_known_bad(accel_device):
            assert False

        @pytest.mark.xfail(strict=False)
        @pytest.mark.accel(framework="numpy")
        def test_known_bad_but_fine(accel_device):
            pass
        """
    )
    result = pytester.runpytest("--accel-save=r.json")
    result.assert_outcomes(xfailed=1, xpassed=1)
    import json

    outcomes = {
        r["test"].split("::")[1]: r["outcome"]
        for r in json.loads((pytester.path / "r.json").read_text())["results"]
    }
    assert outcomes == {"test_known_bad": "xfailed", "test_known_bad_but_fine": "xpassed"}


def test_a_failed_save_fails_the_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import os
        import pytest

        @pytest.mark.accel(framework="numpy")
        def test_x(accel_device):
            os.mkdir("r.json")  # the destination turns into a folder during the run
            accel_device.check(accel_device.randn(2))
        """
    )
    result = pytester.runpytest("--accel-save=r.json")
    result.stdout.fnmatch_lines(["*results NOT saved to *r.json: *"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
