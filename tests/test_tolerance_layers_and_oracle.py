"""Issue 20: tolerance layers in the README's order, each value named by its layer; the oracle's floor,
measured on the corpus and tested at its boundary; an oracle failure said as such in the summary.

The sessions compare torch's CPU items with JAX's CPU results (``reference="jax"``): two devices in one
in-process run, without JAX's float64 (the oracle runs in the item's framework, torch).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import needs_jax, needs_torch

from pytest_accel.dtypes.float_formats import unit_roundoff
from pytest_accel.parity.leaves import HostLeaf
from pytest_accel.parity.oracle import accuracy_verdict, allowed_error, floor_units, leaf_error
from pytest_accel.parity.tolerances import (
    DEFAULT_TOLERANCES,
    Tolerance,
    parse_tolerance_table,
    tolerance_for_check,
)
from pytest_accel.results.records import CheckResult, ItemRecord
from pytest_accel.summary.layout import parity_cell

DATA = Path(__file__).parent / "data"
# Correct results must pass with this margin (their errors this much larger would still pass), and the
# issue's device must fail with it (its error this much smaller would still fail).
MARGIN = 1.2
Pair = tuple[float | None, float | None]

# --------------------------------------------------------------------------------------------------
# Tolerance layers (item 2)

LAYERS_INI = """
[pytest]
accel_tolerances =
    float32: rtol=2e-3
    cpu.float32: atol=1e-9
"""

LAYERS_TEST = """
import pytest

BOTH = dict(framework=["jax", "torch"], reference="jax")

def tanh_off_by(accel_device, factor, **call):
    out = accel_device.xp.tanh(accel_device.randn(64))
    if accel_device.framework == "torch":
        out = out * factor  # a relative error of factor - 1 on the device under test
    accel_device.check(out, name="out", **call)

@pytest.mark.accel(**BOTH, tf32=True)
def test_tf32_beats_the_ini(accel_device):
    tanh_off_by(accel_device, 1.005)

@pytest.mark.accel(**BOTH)
def test_ini(accel_device):
    tanh_off_by(accel_device, 1.005)

@pytest.mark.accel(**BOTH, tf32=True)
def test_tf32_too_far(accel_device):
    tanh_off_by(accel_device, 1.05)

@pytest.mark.accel(**BOTH, tf32=True, rtol=1e-3)
def test_marker_rtol_beats_tf32(accel_device):
    tanh_off_by(accel_device, 1.005)

@pytest.mark.accel(**BOTH, tf32=True)
def test_call_beats_marker(accel_device):
    tanh_off_by(accel_device, 1.005, rtol=1e-3)
"""


@needs_torch
@needs_jax
def test_the_marker_beats_the_configuration_and_failures_name_each_layer(pytester: pytest.Pytester) -> None:
    """0.5% off: fails the ini's rtol=2e-3, passes tf32's float16 rtol (1e-2); each failure's tolerance
    line names where rtol and atol came from."""
    pytester.makeini(LAYERS_INI)
    pytester.makepyfile(LAYERS_TEST)
    result = pytester.runpytest("--accel-no-bench", "-v", "-k", "torch", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=4, deselected=5)
    result.stdout.fnmatch_lines(["*test_tf32_beats_the_ini[[]torch-cpu-float32[]] PASSED*"])
    ini_atol = "atol=1e-09 from accel_tolerances 'cpu.float32'"
    for test, rtol in [
        ("test_ini", "rtol=0.002 from accel_tolerances 'float32'"),
        ("test_tf32_too_far", "rtol=0.01 from the marker's tf32=True"),
        ("test_marker_rtol_beats_tf32", "rtol=0.001 from the marker"),
        ("test_call_beats_marker", "rtol=0.001 from check(rtol=...)"),
    ]:
        result.stdout.fnmatch_lines(
            [f"*_ {test}[[]torch-cpu-float32[]] _*", f"*tolerance for float32: {rtol}, {ini_atol} (allowed*"]
        )


def test_each_value_keeps_the_name_of_its_layer() -> None:
    table = parse_tolerance_table(["float32: rtol=2e-3", "cuda.float32: rtol=4e-3, atol=1e-6"])

    def rule(
        kind: str = "cuda", tf32: bool = False, marker: Pair = (None, None), call: Pair = (None, None)
    ) -> Tolerance:
        return tolerance_for_check("float32", kind=kind, table=table, tf32=tf32, marker=marker, call=call)

    float16_rtol = DEFAULT_TOLERANCES["float16"].rtol
    assert (rule(kind="cpu").rtol, rule(kind="cpu").rtol_source) == (2e-3, "from accel_tolerances 'float32'")
    assert rule(kind="cpu").atol_source == "default for float32"
    assert (rule().rtol, rule().atol_source) == (4e-3, "from accel_tolerances 'cuda.float32'")
    assert (rule(tf32=True).rtol, rule(tf32=True).rtol_source) == (
        float16_rtol,
        "from the marker's tf32=True",
    )
    assert rule(tf32=True).atol == 1e-6  # tf32 sets rtol only
    assert rule(tf32=True, marker=(1e-4, None)).rtol_source == "from the marker"
    assert rule(tf32=True, call=(None, 0.0)).atol_source == "from check(atol=...)"
    assert str(rule(kind="cpu", marker=(1e-4, 1e-8))) == "rtol=0.0001, atol=1e-08, both from the marker"
    # complex64 goes through TF32 too; float64 does not
    complex_rule = tolerance_for_check(
        "complex64", kind="cuda", table=table, tf32=True, marker=(None, None), call=(None, None)
    )
    assert complex_rule.rtol == float16_rtol
    wide = tolerance_for_check(
        "float64", kind="cuda", table=table, tf32=True, marker=(None, None), call=(None, None)
    )
    assert wide.rtol == DEFAULT_TOLERANCES["float64"].rtol and wide.rtol_source == "default for float64"


# --------------------------------------------------------------------------------------------------
# The oracle's floor (item 3)


def _leaf(values: np.ndarray) -> HostLeaf:
    return HostLeaf(np.asarray(values, dtype=np.float64), "float64", "numpy")


def _corpus_errors() -> list[tuple[str, str, float, float]]:
    """(dtype, key, GPU error, CPU error) against the float64 oracle for every benign corpus case."""
    cases = json.loads((DATA / "parity_dev.json").read_text())["cases"]
    with np.load(DATA / "parity_dev.npz", allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    errors = []
    for case in cases:
        if case["label"] != "benign":
            continue
        oracle = _leaf(arrays[f"torch.{case['op']}.oracle"])
        gpu = leaf_error(_leaf(arrays[case["key"] + ".acc"]), oracle)
        cpu = leaf_error(_leaf(arrays[case["key"] + ".cpu"]), oracle)
        errors.append((case["dtype"], case["key"], gpu, cpu))
    return errors


CORPUS_ERRORS = _corpus_errors()


@pytest.mark.parametrize(("dtype", "key", "gpu", "cpu"), CORPUS_ERRORS, ids=[e[1] for e in CORPUS_ERRORS])
def test_correct_corpus_results_pass_the_oracle_with_margin(
    dtype: str, key: str, gpu: float, cpu: float
) -> None:
    """Real H200 and CPU results, either one as the reference: both are correct, neither may fail."""
    assert accuracy_verdict(dtype, MARGIN * gpu, cpu) is None
    assert accuracy_verdict(dtype, MARGIN * cpu, gpu) is None


def test_the_half_precision_floor_is_as_tight_as_the_corpus_allows() -> None:
    """The floor decides for correct half results whose reference is too accurate for the 4x to cover
    them; the worst of those in the corpus (an H200 float16 prefix sum, 9.7 u) is within 1.5x of the
    floor, so the floor does not let much more through than correct results need."""
    decided = [
        gpu / unit_roundoff(dtype)
        for dtype, _, gpu, cpu in CORPUS_ERRORS
        if dtype in ("float16", "bfloat16") and gpu > 4 * cpu
    ]
    for dtype in ("float16", "bfloat16"):
        assert max(decided) < floor_units(dtype) < 1.5 * max(decided)


def test_a_bfloat16_device_86x_less_accurate_than_the_reference_fails() -> None:
    """The issue's case: 0.063 on the device against 0.00073 on the reference."""
    assert accuracy_verdict("bfloat16", 0.063, 0.00073) is not None
    assert accuracy_verdict("bfloat16", 0.063 / MARGIN, 0.00073) is not None


@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float32", "float64", "complex64", "float8_e4m3fn"])
def test_accuracy_verdict_at_its_boundary(dtype: str) -> None:
    """The floor holds below the 4x, the 4x above it; each passes exactly at its value and fails just
    beyond."""
    floor = floor_units(dtype) * unit_roundoff(dtype)
    assert allowed_error(dtype, 0.0) == floor
    for reference_error, allowed in [(floor / 8, floor), (floor, 4 * floor)]:
        assert accuracy_verdict(dtype, allowed, reference_error) is None
        message = accuracy_verdict(dtype, math.nextafter(allowed, math.inf), reference_error)
        assert message is not None and f"allowed: {allowed:.3g}" in message


def test_the_float8_floor_is_one_step() -> None:
    """A correct float8 result is at most half a step from the oracle; one step is the floor, well below
    the value itself (12 u, the half types' floor, would be 75% of an e4m3 value)."""
    for dtype in ("float8_e4m3fn", "float8_e5m2"):
        assert allowed_error(dtype, 0.0) == 2 * unit_roundoff(dtype) < 0.5


# --------------------------------------------------------------------------------------------------
# The boundary in a session, and what the summary says (items 3 and 4)

BOUNDARY_TEST = """
import numpy as np
import pytest
from pytest_accel.dtypes.float_formats import unit_roundoff

FLOOR = {floors}

@pytest.mark.accel(framework=["jax", "torch"], reference="jax", dtypes=list(FLOOR), oracle=True)
@pytest.mark.parametrize("beyond", [0, 1], ids=["at_floor", "beyond"])
def test_boundary(accel_device, beyond):
    # Ones, off by whole steps of the dtype near 1: each step is one unit roundoff of error against the
    # oracle (|value - 1| / (1 + rms)). The reference is 1 u off, the oracle (float64) exact.
    dtype = accel_device.dtype_name
    if dtype == "float64":
        steps = 0
    elif accel_device.framework == "jax":
        steps = 1
    else:
        steps = FLOOR[dtype] + beyond
    ones = np.full(64, 1 + steps * 2 * unit_roundoff(dtype))
    accel_device.check(accel_device.asarray(ones), name="out")
"""


@needs_torch
@needs_jax
def test_a_device_at_the_floor_passes_one_unit_beyond_fails_and_the_summary_says_oracle(
    pytester: pytest.Pytester,
) -> None:
    floors = {dtype: int(floor_units(dtype)) for dtype in ("bfloat16", "float16", "float32")}
    pytester.makepyfile(BOUNDARY_TEST.format(floors=floors))
    result = pytester.runpytest(
        "--accel-no-bench", "-k", "torch", "-p", "no:cacheprovider", "--accel-report=report.md"
    )
    result.assert_outcomes(passed=3, failed=3, deselected=6)
    report = (pytester.path / "report.md").read_text()
    for dtype, floor in floors.items():
        result.stdout.fnmatch_lines(
            [
                f"*accuracy check failed on torch cpu ({dtype}), check 'out': error against the float64 "
                f"oracle is {(floor + 1) * unit_roundoff(dtype):.3g} on this device but "
                f"{unit_roundoff(dtype):.3g} on the reference device (allowed: "
                f"{floor * unit_roundoff(dtype):.3g}*",
            ]
        )
        # The parity cell says the oracle failed, and by how much, not a parity below 1 marked FAIL.
        cell = f"oracle FAIL {floor + 1}x"
        result.stdout.re_match_lines([rf"test_boundary\[beyond\]\s+{dtype}\s+FAILED\s+-\s+{cell}\s+\S+\s*$"])
        result.stdout.re_match_lines([rf"test_bound\S*at_floor\]\s+{dtype}\s+-\s+-\s+0\.\d\d\s+\S+\s*$"])
        assert any(dtype in line and cell in line and "FAILED" in line for line in report.splitlines())
    assert "FAIL 0." not in result.stdout.str() and "FAIL 0." not in report
    result.stdout.fnmatch_lines(["*oracle FAIL Nx: parity held*"])
    assert "oracle FAIL Nx: parity held" in report


def _record(*checks: CheckResult) -> ItemRecord:
    return ItemRecord("t[cpu:1]", "t", "jax", "0", "cpu:1", "cpu", "bfloat16", False, "cpu", list(checks))


def test_the_parity_cell_tells_an_oracle_failure_from_a_parity_failure() -> None:
    oracle_only = CheckResult("out", False, 0.52, error_vs_oracle=0.063, reference_error_vs_oracle=0.00073)
    assert parity_cell(_record(oracle_only)) == f"oracle FAIL {0.063 / 0.00073:.0f}x"
    exact_reference = CheckResult("out", False, 0.3, error_vs_oracle=0.063, reference_error_vs_oracle=0.0)
    assert parity_cell(_record(exact_reference)) == "oracle FAIL"
    parity = CheckResult("out", False, 1.5, error_vs_oracle=0.2, reference_error_vs_oracle=0.001)
    assert parity_cell(_record(parity, oracle_only)) == "FAIL 1.5"  # parity failed too: parity says it
    passing = CheckResult("out", True, 0.25, error_vs_oracle=0.001, reference_error_vs_oracle=0.001)
    assert parity_cell(_record(passing)) == "0.25"
