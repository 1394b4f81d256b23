"""Collection: the marker, ids, validation errors, and tests the plugin must leave alone."""

from __future__ import annotations

import pytest
from conftest import needs_torch


@needs_torch
def test_items_get_short_readable_ids(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.accel(framework="torch", dtypes=["float32", "bfloat16"])
        def test_x(accel_device):
            pass
        """
    )
    result = pytester.runpytest("--co", "-q", "--strict-markers")
    result.stdout.fnmatch_lines(
        [
            "test_items_get_short_readable_ids.py::test_x[[]torch-cpu-float32[]]",
            "test_items_get_short_readable_ids.py::test_x[[]torch-cpu-bfloat16[]]",
        ]
    )
    assert result.ret == 0


def test_marker_is_registered_for_strict_markers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.accel(framework="numpy")
        def test_x(accel_device):
            assert accel_device.framework == "numpy"
        """
    )
    result = pytester.runpytest("--strict-markers")
    result.assert_outcomes(passed=1)


def test_other_parameters_combine_with_devices(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("n", [2, 3])
        @pytest.mark.accel(framework="numpy", dtypes=["float64", "float32"])
        def test_x(accel_device, n):
            x = accel_device.randn(n)
            assert x.shape == (n,) and x.dtype == accel_device.dtype
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*test_x[[]numpy-cpu-float64-2[]] PASSED*"])


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ('framework="tensorflow"', "*unknown framework 'tensorflow'; use one of torch, jax, numpy*"),
        ('framework="numpy", dtypes=["float31"]', "*unknown dtype 'float31'*"),
        ('framework="numpy", devices=["gpu"]', "*unknown device kind 'gpu'*"),
        ('framework="numpy", tolerance=3', "*unknown argument(s) tolerance*"),
        ('framework="numpy", dtypes=["bfloat16"]', "*numpy has no bfloat16*"),
        ("", "*no framework is named for it*accel_framework*"),
    ],
)
def test_bad_marker_is_a_clear_collection_error(pytester: pytest.Pytester, marker: str, message: str) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.accel({marker})
        def test_x(accel_device):
            pass
        """
    )
    result = pytester.runpytest()
    result.stdout.fnmatch_lines([message])
    result.stdout.no_fnmatch_line("*Traceback*")
    assert result.ret == pytest.ExitCode.INTERRUPTED


def test_framework_from_configuration(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\naccel_framework = numpy\naccel_dtypes = float64\n")
    pytester.makepyfile(
        """
        def test_x(accel_device):
            assert accel_device.framework == "numpy"
            assert accel_device.dtype_name == "float64"
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_x[[]numpy-cpu-float64[]] PASSED*"])


def test_marker_without_fixture_is_an_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.accel(framework="numpy")
        def test_x():
            pass
        """
    )
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["*does not request the accel_device fixture*"])
    assert result.ret == pytest.ExitCode.INTERRUPTED


def test_a_test_that_parametrizes_the_fixture_itself_is_left_alone(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("accel_device", ["mine-1", "mine-2"])
        def test_x(accel_device):
            assert accel_device.startswith("mine-")
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_x[[]mine-1[]] PASSED*"])


def test_k_selects_by_framework_and_dtype(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.accel(framework="numpy", dtypes=["float64", "float32"])
        def test_x(accel_device):
            pass
        """
    )
    result = pytester.runpytest("-k", "float32", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_x[[]numpy-cpu-float32[]] PASSED*"])


def test_class_level_marker_applies_to_methods(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.accel(framework="numpy")
        class TestOps:
            def test_add(self, accel_device):
                x = accel_device.randn(4)
                accel_device.check(x + x)
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*TestOps::test_add[[]numpy-cpu-float32[]] PASSED*"])


def test_a_dtype_one_framework_lacks_leaves_out_only_those_items(pytester: pytest.Pytester) -> None:
    """numpy has no bfloat16: its bfloat16 item is skipped with the reason; torch's and jax's run."""
    from conftest import HAS_JAX, HAS_TORCH

    if not (HAS_TORCH and HAS_JAX):
        pytest.skip("needs torch and jax installed")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.accel(framework=["torch", "jax", "numpy"], dtypes=["float32", "bfloat16"])
        def test_mix(accel_device):
            accel_device.check(accel_device.randn(8) * 2)
        """
    )
    result = pytester.runpytest("-rs", "-v")
    result.assert_outcomes(passed=5, skipped=1)
    result.stdout.fnmatch_lines(["accel: left out (skipped): numpy x bfloat16: numpy has no bfloat16*"])
    result.stdout.fnmatch_lines(
        ["*test_mix[[]numpy-bfloat16[]] SKIPPED*", "SKIPPED*left out: numpy has no bfloat16*"]
    )
    for item in ("torch-cpu-bfloat16", "jax-cpu-bfloat16", "numpy-cpu-float32"):
        result.stdout.fnmatch_lines([f"*test_mix[[]{item}[]] PASSED*"])
    result.stdout.fnmatch_lines(["  left out (skipped): numpy x bfloat16*"])  # in the summary too
