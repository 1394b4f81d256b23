"""The accel section fits the terminal: at 80, 100 and 160 columns, with one, two and three devices, no
line is longer than the width, and every test, device and outcome of the run is still in the summary or
the report."""

from __future__ import annotations

import pytest
from conftest import HAS_JAX
from session_host import runpytest_hosted

pytestmark = pytest.mark.skipif(not HAS_JAX, reason="jax is not installed (its forced CPU devices are used)")

SUITE = """
import pytest

@pytest.mark.accel(framework="jax", dtypes=["float32", "bfloat16", "float8_e5m2fnuz"])
@pytest.mark.parametrize("size", [16, 64])
def test_a_matrix_product_with_a_name_long_enough_to_be_shortened_somewhere(accel_device, size):
    x = accel_device.randn(size, size)
    accel_device.check(accel_device.bench(lambda a: a @ a, x, name="matmul"))
    accel_device.bench(lambda a: a * 2, x, name="a_benchmark_with_a_long_name")

@pytest.mark.accel(framework="jax")
def test_breaks_on_the_second_device(accel_device):
    x = accel_device.randn(4)
    accel_device.check(x + (1.0 if accel_device.index == 1 else 0.0))

@pytest.mark.accel(framework="jax")
def test_short(accel_device):
    accel_device.check(accel_device.randn(3).sum())
"""


def _accel_section(lines: list[str]) -> list[str]:
    start = next(i for i, line in enumerate(lines) if line.strip("= ") == "accel" and line.startswith("="))
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].startswith("=") and lines[i].endswith("=")),
        len(lines),
    )
    return lines[start:end]


# One JAX device in this test's own process (in-process runs are cheap: JAX is imported already); two and
# three in session hosts (tests/session_host.py), started with the XLA_FLAGS that make them. The hardest
# fits (3 devices at 80 columns) and the widest are each a session of their own.
CASES = [(1, 80), (1, 100), (1, 160), (2, 100), (3, 80), (3, 160)]


@pytest.mark.parametrize(("devices", "width"), CASES, ids=[f"{d}-devices-{w}-columns" for d, w in CASES])
def test_the_summary_fits_the_width_and_loses_nothing(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, width: int, devices: int
) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    pytester.makepyfile(test_wide=SUITE)
    arguments = ("--accel=all", "--accel-bench-budget=0.01", "--accel-report=r.md", "-p", "no:cacheprovider")
    if devices == 1:
        result = pytester.runpytest(*arguments)
    else:
        monkeypatch.setenv("XLA_FLAGS", f"--xla_force_host_platform_device_count={devices}")
        result = runpytest_hosted(pytester, *arguments)
    section = _accel_section(result.outlines)
    assert f"cpu:{devices}" not in "\n".join(section)  # as many devices as meant (no more in-process)
    too_long = [line for line in section if len(line) > width]
    assert not too_long, "\n".join(too_long)
    summary = "\n".join(section)
    report = (pytester.path / "r.md").read_text()
    for name in (
        "test_a_matrix_product_with_a_name_long_enough",
        "test_breaks_on_the_second_device",
        "test_short",
    ):
        assert name in report  # whole ids in the report
        assert name[:12] in summary  # each test has its rows in the summary, its name shortened if need be
    assert "shortened_somewhere[16]" in report  # whole ids in the report
    for index in range(1, devices):
        assert f"cpu:{index}" in summary and f"cpu:{index}" in report
    if devices > 1:
        assert "FAILED" in summary and "FAIL" in report  # the broken device's row says so
        result.assert_outcomes(passed=6 * devices + 2 * devices - 1, failed=1)
    else:
        result.assert_outcomes(passed=8)


def test_shortened_names_stay_tellable_apart(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two tests whose ids differ only in the middle: shortening the middle away would make their rows
    # look alike, so that shortening is not done, in any table, however narrow the terminal.
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=3")
    monkeypatch.setenv("COLUMNS", "60")
    pytester.makepyfile(
        test_pair="""
        import pytest

        @pytest.mark.accel(framework="jax")
        @pytest.mark.parametrize("variant", ["first_then_a_long_shared_end", "second_then_a_long_shared_end"])
        def test_a_long_shared_beginning(accel_device, variant):
            accel_device.check(accel_device.bench(lambda a: a * 2, accel_device.randn(8)))
        """
    )
    result = runpytest_hosted(pytester, "--accel=all", "--accel-bench-budget=0.01", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)
    section = _accel_section(result.outlines)
    tables = [i for i, line in enumerate(section) if line.startswith("test ")]
    assert len(tables) >= 2  # three devices do not fit in 60 columns side by side
    for start, end in zip(tables, [*tables[1:], len(section)], strict=True):
        rows = [line for line in section[start + 2 : end] if line.startswith("te")]
        assert len(rows) == 2 and len({row.split()[0] for row in rows}) == 2, rows
