"""Defects a user found following the README (issue 20), each checked where the user met it.

A gate threshold without a baseline is said, not silently ignored; a failure in the reference pass shows
the test's lines, not the plugin's source; the gate's table fits the terminal; the summary's short dtype
names are accepted; saved files and reports get the user's usual file mode.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import needs_torch

from pytest_accel.config.marker import validate_dtypes
from pytest_accel.errors import AccelConfigError
from pytest_accel.results.atomic import write_text_atomically

NUMPY_SUITE = """
import numpy as np
import pytest

@pytest.mark.accel(framework="numpy")
def test_plain(accel_device):
    accel_device.check(accel_device.bench(np.sort, accel_device.randn(256), name="sort"))

@pytest.mark.accel(framework="numpy", fail_slower="25%")
def test_marked(accel_device):
    accel_device.check(accel_device.bench(np.cumsum, accel_device.randn(256), name="cumsum"))
"""
FAST = ("--accel-bench-budget=0.01", "--accel-gate-budget=0.02")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No run here may append to a real job summary or take options from outside."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)


def _flat(result: pytest.RunResult) -> str:
    """The output with every run of whitespace made one space: wrapped lines read as one."""
    return " ".join((result.stdout.str() + "\n" + result.stderr.str()).split())


@pytest.fixture
def umask() -> Iterator[None]:
    """The common umask 0o022 while the test runs (files 0o644), restored after."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- 5: a threshold without a baseline -----------------------------------------------------------------


def test_a_threshold_without_a_baseline_says_nothing_was_gated(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_gate=NUMPY_SUITE)
    result = pytester.runpytest("--accel-fail-slower=10%", *FAST)
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.OK  # nothing was compared, so nothing failed
    text = _flat(result)
    assert "accel: no baseline given: nothing was gated" in text
    assert "--accel-fail-slower (or ini accel_fail_slower) set a 10% threshold" in text
    assert "give one with --accel-compare=PATH" in text
    assert "accel gate" not in text  # no gate section pretends to have judged anything
    # a marker's fail_slower alone is the test's threshold for runs that compare: an everyday run is fine
    everyday = pytester.runpytest(*FAST)
    assert everyday.ret == pytest.ExitCode.OK and "no baseline given" not in _flat(everyday)
    missing = pytester.runpytest("--accel-compare=nowhere.json", "--accel-fail-slower=10%", *FAST)
    assert missing.ret == pytest.ExitCode.USAGE_ERROR and "nowhere.json" in _flat(missing)


# -- 6: an error in the reference pass -----------------------------------------------------------------

REFERENCE_FAILS = """
import pytest

def halve(values, framework):
    if framework == "numpy":
        raise ValueError("halve has no numpy kernel")
    return values / 2

@pytest.mark.accel(framework=["torch", "numpy"], reference="numpy")
def test_halve(accel_device):
    accel_device.check(halve(accel_device.asarray([1.0, 2.0]), accel_device.framework))
"""
PLUGIN_SOURCE = ("def run_reference_pass", "def pytest_pyfunc_call", "def reference_checks_for", "graph =")


def _failure_section(result: pytest.RunResult, item: str) -> list[str]:
    """The lines pytest prints for one failed item, from its title to the next title or section."""
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if re.match(rf"^_+ {re.escape(item)} _+$", line))
    end = next(i for i in range(start + 1, len(lines)) if re.match(r"^(_{3,} |={3,} )", lines[i]))
    return lines[start:end]


@needs_torch
def test_a_reference_pass_error_shows_the_tests_lines_not_the_plugins(pytester: pytest.Pytester) -> None:
    """torch's item compares with numpy's results (a hidden reference pass under numpy), which fail."""
    pytester.makepyfile(test_ref=REFERENCE_FAILS)
    result = pytester.runpytest()
    result.assert_outcomes(failed=2)
    section = _failure_section(result, "test_halve[torch-cpu-float32]")
    text = "\n".join(section)
    assert "ReferencePassError: the reference pass on numpy cpu (float32) raised ValueError" in text
    assert "accel_device.check(halve(" in text and 'raise ValueError("halve has no numpy kernel")' in text
    assert not [line for line in section if any(source in line for source in PLUGIN_SOURCE)], text
    assert "pytest_accel" not in text.replace("pytest_accel.errors.ReferencePassError", ""), text
    assert len(section) < 30, text  # the plugin's frames took about 70 lines


# -- 7: the gate's table fits the terminal -------------------------------------------------------------

WIDE_SUITE = """
import numpy as np
import pytest

@pytest.mark.accel(framework="numpy", dtypes=["float32", "float64"])
@pytest.mark.parametrize("case", ["a-rather-long-parameter-value", "another-long-parameter-value"])
def test_a_benchmark_with_a_rather_long_name_for_the_table(accel_device, case):
    data = accel_device.randn(128)
    accel_device.check(accel_device.bench(np.sort, data, name="sort_along_the_last_axis"))
"""


def _gate_section(result: pytest.RunResult) -> list[str]:
    """The lines of the 'accel gate' section, from after its title to the next section."""
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if re.match(r"^=+ accel gate =+$", line))
    end = next((i for i in range(start + 1, len(lines)) if re.match(r"^={3,} ", lines[i])), len(lines))
    return lines[start + 1 : end]


def _table_rows(lines: list[str]) -> list[list[str]]:
    """The rows of each table among ``lines``: the lines after a rule of dashes, up to a blank line."""
    tables = []
    for index, line in enumerate(lines):
        if re.fullmatch(r"-+(  -+)*", line):
            rows = []
            for row in lines[index + 1 :]:
                if not row.strip() or row.startswith(("[", "gate mode:", "accel gate:")):
                    break
                rows.append(row)
            tables.append(rows)
    return tables


def test_the_gate_section_fits_the_terminal(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_wide_module=WIDE_SUITE)
    saved = pytester.runpytest("--accel-save=base.json", *FAST)
    assert saved.ret == pytest.ExitCode.OK, saved.stdout.str()
    for width in (80, 160):
        monkeypatch.setenv("COLUMNS", str(width))
        result = pytester.runpytest("--accel-compare=base.json", "--accel-report=gate.json", *FAST)
        result.assert_outcomes(passed=4)
        section = _gate_section(result)
        too_long = [line for line in section if len(line) > width]
        assert not too_long, f"{width} columns:\n" + "\n".join(section)
        assert any(line.startswith("accel gate: report only") for line in section)
        verdicts = json.loads((pytester.path / "gate.json").read_text())["gate"]["verdicts"]
        assert len(verdicts) == 4
        text = " ".join(" ".join(section).split())
        for verdict in verdicts:  # nothing is dropped: every verdict, and every note in full
            assert verdict["verdict"] in text and " ".join(verdict["note"].split()) in text
        tables = _table_rows(section)
        assert tables and all(len(rows) == 4 for rows in tables), "\n".join(section)  # every row, each table


# -- 9: the summary's short dtype names ----------------------------------------------------------------

SHORT_NAMES_SUITE = """
import pytest

@pytest.mark.accel(framework="torch", dtypes=["bf16", "f16", "float16"])
def test_short(accel_device):
    accel_device.check(accel_device.asarray([1.0, 2.0]) * 2)

@pytest.mark.accel(framework="numpy")
def test_default(accel_device):
    accel_device.check(accel_device.asarray([1.0, 2.0]) * 2)
"""


@needs_torch
def test_short_dtype_names_become_full_names(pytester: pytest.Pytester, umask: None) -> None:
    """Marker and ini key take bf16, f16, f64; ids and the saved file keep the full names. The run also
    shows that the saved file and the report get the usual mode (0o644 under umask 0o022)."""
    pytester.makeini("[pytest]\naccel_dtypes = f64\n")
    pytester.makepyfile(test_short_names=SHORT_NAMES_SUITE)
    result = pytester.runpytest("-v", "--accel-save=r.json", "--accel-report=r.md")
    result.assert_outcomes(passed=3)
    for item in (
        "test_short[torch-cpu-bfloat16]",
        "test_short[torch-cpu-float16]",
        "test_default[numpy-cpu-float64]",
    ):
        result.stdout.fnmatch_lines([f"*{item.replace('[', '[[]')} PASSED*"])
    saved = json.loads((pytester.path / "r.json").read_text())
    assert sorted(r["dtype"] for r in saved["results"]) == ["bfloat16", "float16", "float64"]
    if os.name != "nt":  # POSIX file modes
        assert _mode(pytester.path / "r.json") == 0o644 and _mode(pytester.path / "r.md") == 0o644


def test_an_unknown_dtype_names_the_short_names_too() -> None:
    assert validate_dtypes(["f8e4m3", "c64", "int8"], "here") == ("float8_e4m3fn", "complex64", "int8")
    with pytest.raises(AccelConfigError, match=r"unknown dtype 'bf17'.*short names: .*bf16"):
        validate_dtypes("bf17", "here")


# -- 10: the mode of written files ---------------------------------------------------------------------


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_written_files_get_the_umask_mode_and_replaced_files_keep_theirs(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        fresh = tmp_path / "fresh.json"
        write_text_atomically(fresh, "{}")
        assert _mode(fresh) == 0o640  # 0o666 less the umask, as any new file
        private = tmp_path / "private.json"
        private.write_text("old")
        private.chmod(0o600)
        write_text_atomically(private, "new")
        assert private.read_text() == "new" and _mode(private) == 0o600  # a replaced file keeps its mode
    finally:
        os.umask(previous)
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind
