"""The accel_device members, bench, and the terminal summary."""

from __future__ import annotations

import pytest
from conftest import needs_torch


@needs_torch
def test_torch_members_and_asarray_nests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import collections
        import numpy as np
        import pytest
        import torch

        Pair = collections.namedtuple("Pair", "left right")

        @pytest.mark.accel(framework="torch", dtypes=["bfloat16"])
        def test_members(accel_device):
            assert accel_device.name == "cpu" and accel_device.kind == "cpu"
            assert accel_device.framework == "torch" and accel_device.dtype is torch.bfloat16
            assert accel_device.native == torch.device("cpu") and accel_device.framework_xp is torch
            moved = accel_device.asarray(
                {"w": np.ones((2, 3)), "n": [[1, 2], [3, 4]], "pair": Pair(np.zeros(2), 1.5)}
            )
            assert moved["w"].dtype == torch.bfloat16 and moved["w"].shape == (2, 3)
            assert moved["n"].dtype == torch.int64 and moved["n"].shape == (2, 2)
            assert isinstance(moved["pair"], Pair) and moved["pair"].right.dtype == torch.bfloat16
            x = accel_device.randn(2, 3)
            assert x.dtype == torch.bfloat16 and x.device.type == "cpu"
            assert accel_device.randint(0, 5, (10,)).dtype == torch.int64
            accel_device.sync()
            accel_device.check(moved, name="moved")
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_bench_records_timing_and_summary_shows_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import numpy as np
        import pytest

        @pytest.mark.accel(framework="numpy", dtypes=["float64"])
        def test_timed(accel_device):
            a = accel_device.randn(32, 32)
            out = accel_device.bench(np.matmul, a, a, name="matmul")
            total = accel_device.bench(np.sum, out, name="sum")
            accel_device.check({"out": out, "total": total})

        def test_plain():
            pass
        """
    )
    result = pytester.runpytest("--accel-bench-budget=0.05")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*== accel ==*",
            "devices:",
            "  numpy *: cpu (*",
            "tests in test_bench_records_timing_and_summary_shows_it.py::",
            "",
            "test * dtype * bench * cpu * peak mem",  # numpy's memory, through tracemalloc (issue 18)
            "*",
            "test_timed * float64 * matmul *s ±*% * *B",
            "test_timed * float64 * sum *s ±*% * *B",
        ]
    )
    result.stdout.fnmatch_lines(["first-call times (compilation, caches): pytest -v"])
    verbose = pytester.runpytest("--accel-bench-budget=0.05", "-v")
    verbose.stdout.fnmatch_lines(
        ["test * device * dtype * bench * first call * median", "*test_timed*matmul*"]
    )
    result.stdout.no_fnmatch_line("*test_plain*")


def test_no_bench_calls_once_and_records_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        CALLS = []

        @pytest.mark.accel(framework="numpy")
        def test_timed(accel_device):
            out = accel_device.bench(lambda: CALLS.append(1) or 5)
            assert out == 5 and len(CALLS) == 1
        """
    )
    result = pytester.runpytest("--accel-no-bench")
    result.assert_outcomes(passed=1)
    # no bench time: the row shows the whole test's time, in parentheses (issue 15.5)
    result.stdout.re_match_lines([r"test_timed\s+float32\s+\(\d[\d.]* (s|ms|us|ns)\)\s*$"])
    result.stdout.no_fnmatch_line("first-call times*")


def test_summary_is_quiet_without_accel_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*== accel ==*")
    result.stdout.no_fnmatch_line("accel: *")


def test_summary_is_printed_when_tests_fail(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.accel(framework="numpy")
        def test_broken(accel_device):
            accel_device.check(accel_device.randn(2))
            assert False, "boom"
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*== accel ==*", "test_broken * float32 * FAILED*"])


def test_assert_parity_public_api_on_nests() -> None:
    import collections

    import numpy as np

    from pytest_accel import ParityError, assert_parity

    Out = collections.namedtuple("Out", "logits aux")
    ref = {"out": Out(np.linspace(-1, 1, 50, dtype=np.float32), [np.arange(3), 2.5])}
    same = {"out": Out(ref["out"].logits * (1 + 1e-7), [np.arange(3), 2.5])}
    assert_parity(same, ref)
    broken = {"out": Out(ref["out"].logits.copy(), [np.arange(3), 2.5])}
    broken["out"].logits[7] += 0.1
    with pytest.raises(ParityError) as caught:
        assert_parity(broken, ref)
    text = str(caught.value)
    assert "value['out'].logits:" in text
    assert "1 of 50 elements (2%) are off" in text
    assert isinstance(caught.value, AssertionError)
    with pytest.raises(ParityError, match="shape \\(3,\\) differs from the reference's \\(4,\\)"):
        assert_parity(np.zeros(3), np.zeros(4))
    with pytest.raises(ParityError, match="dtype int32 differs from the reference's int64"):
        assert_parity(np.zeros(3, dtype=np.int32), np.zeros(3, dtype=np.int64))
    with pytest.raises(ParityError, match="is extra"):
        assert_parity([np.zeros(3), np.zeros(1)], [np.zeros(3)])
    assert_parity(broken, ref, rtol=0.1)  # a per-call tolerance can accept it


def test_devices_sit_side_by_side_and_the_summary_fits_the_width(
    pytester: pytest.Pytester, two_jax_devices_hosted
) -> None:
    """Two JAX devices: one row per test x dtype, the second device's time, speedup and parity beside
    the first's; at a narrow width the second device moves to a table of its own."""
    pytester.makepyfile(
        test_side="""
        import pytest

        @pytest.mark.accel(framework="jax")
        def test_a_rather_long_name_that_needs_shortening_in_the_middle_of_it(accel_device):
            x = accel_device.randn(64, 64)
            accel_device.check(accel_device.bench(lambda a: a @ a, x, name="mm"))
        """
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", "200")
        wide = two_jax_devices_hosted("--accel=all", "--accel-bench-budget=0.05", "-p", "no:cacheprovider")
    wide.assert_outcomes(passed=2)
    wide.stdout.re_match_lines([r"test\s+dtype\s+cpu\s+cpu:1\s+speedup\s+parity\s*$"])
    wide.stdout.re_match_lines(
        [r"test_a_rather.*\s+float32\s+\S+ \S+ ±\d+%\s+\S+ \S+ ±\d+%\s+(~1x|[\d.]+x) \[.*\]\s+0\.\d\d"]
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", "64")
        narrow = two_jax_devices_hosted("--accel=all", "--accel-bench-budget=0.05", "-p", "no:cacheprovider")
    narrow.stdout.re_match_lines([r"test\s+dtype\s+cpu\s*$", r"test\s+dtype\s+cpu:1\s+speedup\s+parity\s*$"])
    table_lines = [line for line in narrow.outlines if line.startswith("test_a")]
    assert table_lines and all("…" in line for line in table_lines)  # shortened in the middle
