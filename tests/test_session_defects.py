"""Defects a user met (issues 19 and 20), each in a real session: the header names only the kinds that
were asked for, each absent one in a short line; an oracle that cannot run says why once."""

from __future__ import annotations

import json

import pytest
from conftest import HAS_TORCH, needs_jax
from session_host import runpytest_hosted

JAX_TEST = """
import pytest

@pytest.mark.accel(framework="jax")
def test_values(accel_device):
    accel_device.check(accel_device.randn(3))
"""

ABSENT_LINE = "not available:"


@pytest.fixture
def jax_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("JAX_ENABLE_X64", raising=False)
    monkeypatch.delenv("PYTEST_ACCEL", raising=False)
    pytester.makepyfile(test_values=JAX_TEST)
    return pytester


@needs_jax
def test_header_names_absent_kinds_only_when_asked_and_oracle_says_why_once(
    jax_suite: pytest.Pytester,
) -> None:
    only_cpu = runpytest_hosted(jax_suite, "--accel=cpu", "--accel-oracle")
    only_cpu.assert_outcomes(failed=1)
    output = only_cpu.stdout.str()
    # --accel=cpu asked for no TPU, GPU or MPS: their absence is not news (issue 19.11)
    assert ABSENT_LINE not in output
    assert "libtpu" not in output
    # the oracle cannot run without 64-bit JAX: said once, not as a chained exception (issue 20.12)
    # the short test summary repeats the message when the terminal is wide enough: count the report only
    report = output.split("short test summary info")[0]
    assert report.count("jax computes float64 only with 64-bit mode on") == 1
    assert "During handling of the above exception" not in output

    everything = runpytest_hosted(jax_suite, "--accel=all", "--accel-no-bench")
    everything.assert_outcomes(passed=1)
    header = [line for line in everything.stdout.lines if line.startswith("accel:") and ABSENT_LINE in line]
    assert any(" tpu: " in line for line in header), header  # asked for by `all`, absent on this machine
    assert all(len(line) <= 160 for line in header), header  # one short line each, never a traceback


def test_tolerance_entries_take_the_summarys_short_dtype_names() -> None:
    """The summary prints bf16 and f32; accel_tolerances accepts what it prints (issue 20.9)."""
    from pytest_accel.parity.tolerances import parse_tolerance_table

    table = parse_tolerance_table(["bf16: rtol=0.1", "cuda.f32: atol=1e-6"])
    assert table.entries == {"bfloat16": (0.1, None), "cuda.float32": (None, 1e-6)}


def test_a_speedup_that_cannot_be_told_keeps_a_short_cell() -> None:
    """Three noisy samples give an interval of many decades; its bounds are said in two digits, not as a
    14-digit number that pushes the table past the terminal (seen: ~1x [9.7e-18-17359766318365])."""
    from pytest_accel.summary.layout import speedup_cell
    from pytest_accel.timing.measure import BenchResult

    def bench(samples: list[float]) -> BenchResult:
        return BenchResult("mm", "perf_counter", samples, 1, 0.0, 0, "budget")

    cell = speedup_cell(bench([8e-6, 8.3e-6, 8.1e-6]), bench([1e-4, 1e-2]))
    assert cell.startswith(("~1x [", "0.")) and len(cell) <= 24, cell


COUNTED = """
import pytest

def note(accel_device, test):
    with open("bodies.txt", "a") as stream:
        stream.write(f"{test} {accel_device.framework}\\n")

@pytest.mark.accel(framework=["numpy", "torch"], reference="numpy")
def test_checks_nothing(accel_device):
    note(accel_device, "nothing")
    assert accel_device.randn(3).shape == (3,)  # an adopted test: its own assert, no check

@pytest.mark.accel(framework=["numpy", "torch"], reference="numpy")
def test_checks(accel_device):
    note(accel_device, "checks")
    accel_device.check(accel_device.randn(3) * 2)
"""


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_an_item_that_checks_nothing_pays_no_reference_pass(pytester: pytest.Pytester) -> None:
    """Issue 15.4: the hidden reference pass runs at the first check that needs it, so a body without
    checks (an adopted test) runs once, and a body with checks still runs on the reference device."""
    pytester.makepyfile(test_counted=COUNTED)
    result = pytester.runpytest("-k", "torch", "--accel-no-bench", "-p", "no:randomly")
    result.assert_outcomes(passed=2, deselected=2)
    bodies = (pytester.path / "bodies.txt").read_text().split("\n")
    assert sorted(line for line in bodies if line) == [
        "checks numpy",  # the reference pass, inside the torch item
        "checks torch",
        "nothing torch",  # no check: no pass
    ]


SLOW_REFERENCE = """
import time
import pytest

@pytest.mark.accel(framework=["numpy", "torch"], reference="numpy")
def test_slow_on_numpy(accel_device):
    if accel_device.framework == "numpy":
        time.sleep(0.3)  # only the reference framework's body is slow
    accel_device.check(accel_device.randn(3) * 2)
"""


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_the_whole_test_time_leaves_the_hidden_pass_out(pytester: pytest.Pytester) -> None:
    """Issue 15.5: each item's body time is saved (call_s); the reference pass inside a torch item (slow
    here) is not counted as the torch body's time."""
    pytester.makepyfile(test_slow=SLOW_REFERENCE)
    result = pytester.runpytest("-k", "torch", "--accel-no-bench", "--accel-save=out.json", "--durations=0")
    result.assert_outcomes(passed=1, deselected=1)
    (record,) = json.loads((pytester.path / "out.json").read_text())["results"]
    assert record["framework"] == "torch" and record["call_s"] is not None
    assert record["call_s"] < 0.2  # the 0.3 s reference pass ran inside the item, and is left out
    result.stdout.re_match_lines([r"0\.[3-9]\d*s call .*torch"])  # pytest's own duration includes it
