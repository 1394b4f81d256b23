"""Compare mode of the plugin (--accel-compare): verdicts, the gate's exit code, reports, bad baselines.

Each test makes its baseline deterministically: the benchmarked function sorts an array REPS times, REPS
read from the environment when the function runs. A baseline saved with REPS=4 is compared with a run at
REPS=4 (unchanged), 16 (about 4x slower) or 1 (faster). Small budgets keep every run short; a run-to-run
noise of 1% makes the 4x verdicts certain, while tests that expect no regression keep the default noise
(20%), so that a busy machine cannot turn unchanged code into a false alarm.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPS_VARIABLE = "ACCEL_GATE_TEST_REPS"

SORT_FUNCTIONS = f"""
import os
import time

import numpy as np
import pytest

DATA = np.random.default_rng(0).random(20000)


def work(x):
    for _ in range(int(os.environ.get("{REPS_VARIABLE}", "4"))):
        np.sort(x)
    return float(x[0])
"""

SUITE = (
    SORT_FUNCTIONS
    + """

@pytest.mark.accel(framework="numpy")
def test_sort(accel_device):
    x = accel_device.asarray(DATA)
    out = accel_device.bench(work, x, name="sort")
    accel_device.check(out, name="first")
"""
)

SORT_TEST = "test_suite.py::test_sort"
BUDGETS = ("--accel-bench-budget=0.05", "--accel-gate-budget=0.2")
# Only for 4x changes: nothing else is that large. The 4x slower side takes a quarter of the samples in
# its budget, and levels are means of blocks of 20-30 samples: the gate budget lets an open verdict take
# enough blocks even when the machine is loaded (the whole suite on 2 cores).
DECISIVE = ("--accel-bench-budget=0.05", "--accel-gate-budget=0.6", "--accel-gate-noise=1%")
# Their baseline takes four blocks' worth of samples even on a loaded machine: a baseline of one or two
# blocks left a 4x slowdown inconclusive when the whole suite shared the 2 cores with other work.
DECISIVE_BASELINE = ("--accel-bench-budget=0.2",)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No run here may append to a real job summary or pick up a device spec from outside."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("PYTEST_ACCEL", raising=False)
    monkeypatch.setenv("COLUMNS", "250")  # one row per benchmark; fitting: test_user_walkthrough_fixes


class Gate:
    """Saves a baseline and runs compare runs against it, checking that the baseline stays untouched."""

    def __init__(self, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
        self.pytester = pytester
        self.monkeypatch = monkeypatch
        self.baseline = pytester.path / "base.json"

    def write_suite(self, source: str = SUITE) -> None:
        self.pytester.makepyfile(test_suite=source)

    def run(self, reps: int, *args: str) -> pytest.RunResult:
        self.monkeypatch.setenv(REPS_VARIABLE, str(reps))
        return self.pytester.runpytest(*args)

    def save(self, reps: int = 4, *args: str) -> dict[str, Any]:
        result = self.run(reps, f"--accel-save={self.baseline.name}", *BUDGETS, *args)
        assert result.ret == pytest.ExitCode.OK, result.stdout.str()
        return self.document()

    def document(self) -> dict[str, Any]:
        return json.loads(self.baseline.read_text())

    def write_document(self, document: dict[str, Any]) -> None:
        self.baseline.write_text(json.dumps(document, indent=1))

    def compare(self, reps: int, *args: str) -> pytest.RunResult:
        """A compare run that also writes gate.json; the baseline's bytes must be the same after it."""
        before = self.baseline.read_bytes() if self.baseline.exists() else None
        result = self.run(reps, f"--accel-compare={self.baseline.name}", "--accel-report=gate.json", *args)
        after = self.baseline.read_bytes() if self.baseline.exists() else None
        assert after == before, "a compare run changed its baseline"
        return result

    def verdicts(self) -> dict[str, dict[str, Any]]:
        """The last compare run's verdicts by test id (one bench per test in these suites)."""
        report = json.loads((self.pytester.path / "gate.json").read_text())
        return {v["test"]: v for v in report["gate"]["verdicts"]}


@pytest.fixture
def gate(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Gate:
    """A fresh pytester folder with its baseline at base.json."""
    return Gate(pytester, monkeypatch)


def _output(result: pytest.RunResult) -> str:
    return result.stdout.str() + "\n" + result.stderr.str()


def _gate_line(result: pytest.RunResult) -> str:
    (line,) = [line for line in result.stdout.lines if line.startswith("accel gate:")]
    return line


# -- verdicts and the exit code ------------------------------------------------------------------------


def test_four_times_slower_fails_the_gate_but_not_the_tests(gate: Gate) -> None:
    gate.write_suite()
    gate.save(4, *DECISIVE_BASELINE)
    result = gate.compare(16, *DECISIVE, "--accel-fail-slower=10%")
    result.assert_outcomes(passed=1, failed=0)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    line = _gate_line(result)
    assert line.startswith("accel gate: FAILED") and SORT_TEST in line
    result.stdout.fnmatch_lines([f"*{SORT_TEST}*sort*SLOWER (gate)*"])
    result.stdout.no_fnmatch_line("FAILED test_suite.py*")  # no test is reported as failing
    verdict = gate.verdicts()[SORT_TEST]
    assert (
        verdict["verdict"] == "slower" and verdict["gating"] is True and verdict["ratio"] > 1.5
    )  # 4x nominal; a loaded machine may slow the baseline


def test_slower_without_a_threshold_only_reports(gate: Gate) -> None:
    gate.write_suite()
    gate.save(4, *DECISIVE_BASELINE)
    result = gate.compare(16, *DECISIVE)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*{SORT_TEST}*sort*slower*"])
    assert _gate_line(result).startswith("accel gate: report only")
    assert "FAILED" not in result.stdout.str()
    assert gate.verdicts()[SORT_TEST]["verdict"] == "slower"


def test_unchanged_code_is_never_called_slower(gate: Gate) -> None:
    gate.write_suite()
    gate.save()
    result = gate.compare(4, *BUDGETS, "--accel-fail-slower=25%")  # default noise: 20%
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert "FAILED" not in result.stdout.str()
    assert _gate_line(result).startswith("accel gate: passed")
    assert gate.verdicts()[SORT_TEST]["verdict"] in ("unchanged", "inconclusive")


def test_faster_code_is_called_faster(gate: Gate) -> None:
    gate.write_suite()
    gate.save(4, *DECISIVE_BASELINE)
    result = gate.compare(1, *DECISIVE, "--accel-fail-slower=10%")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([f"*{SORT_TEST}*sort*faster*"])
    verdict = gate.verdicts()[SORT_TEST]
    assert verdict["verdict"] == "faster" and verdict["ratio"] < 0.8


MARKED_SUITE = (
    SORT_FUNCTIONS
    + """

@pytest.mark.accel(framework="numpy", fail_slower="50%")
def test_fifty(accel_device):
    accel_device.check(accel_device.bench(work, accel_device.asarray(DATA), name="sort"))


@pytest.mark.accel(framework="numpy", fail_slower="1000%")
def test_thousand(accel_device):
    accel_device.check(accel_device.bench(work, accel_device.asarray(DATA), name="sort"))
"""
)


def test_marker_thresholds_gate_without_the_option(gate: Gate) -> None:
    gate.write_suite(MARKED_SUITE)
    gate.save(4, *DECISIVE_BASELINE)
    result = gate.compare(16, *DECISIVE)  # no --accel-fail-slower
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    line = _gate_line(result)
    assert line.startswith("accel gate: FAILED - 1 benchmark(s)")
    assert "test_suite.py::test_fifty" in line and "test_thousand" not in line
    verdicts = gate.verdicts()
    fifty, thousand = verdicts["test_suite.py::test_fifty"], verdicts["test_suite.py::test_thousand"]
    assert fifty["verdict"] == "slower" and fifty["gating"] and fifty["threshold"] == pytest.approx(0.5)
    assert thousand["gating"] and thousand["threshold"] == pytest.approx(10.0)
    assert thousand["verdict"] != "slower"  # 4x is far below 11x


def test_new_and_missing_benchmarks_are_listed_and_never_fail(gate: Gate) -> None:
    extra = """

@pytest.mark.accel(framework="numpy")
def test_{name}(accel_device):
    accel_device.check(accel_device.bench(np.cumsum, accel_device.asarray(DATA), name="{name}"))
"""
    gate.write_suite(SORT_FUNCTIONS + extra.format(name="old"))
    gate.save()
    gate.write_suite(SORT_FUNCTIONS + extra.format(name="new"))
    result = gate.compare(4, *BUDGETS, "--accel-fail-slower=10%")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.stdout.fnmatch_lines(["*test_suite.py::test_new*new*not in the baseline*"])
    result.stdout.fnmatch_lines(["*test_suite.py::test_old*missing*not measured in this run*"])
    verdicts = gate.verdicts()
    assert set(verdicts) == {"test_suite.py::test_new", "test_suite.py::test_old"}
    assert verdicts["test_suite.py::test_new"]["verdict"] == "new"
    assert verdicts["test_suite.py::test_old"]["verdict"] == "missing"
    assert not verdicts["test_suite.py::test_new"]["gating"]
    assert not verdicts["test_suite.py::test_old"]["gating"]


PARITY_SUITE = """
import numpy as np
import pytest

DATA = np.random.default_rng(0).random(2000)


@pytest.mark.accel(framework="jax")
def test_scaled(accel_device):
    import jax.numpy as jnp

    out = accel_device.bench(jnp.sort, accel_device.asarray(DATA), name="sort")
    if accel_device.name == "cpu:1":
        out = out * 1.01  # a planted defect on the second device
    accel_device.check(out, name="sorted")
"""


def test_a_parity_failure_is_a_test_failure_not_a_gate_failure(
    pytester: pytest.Pytester, two_jax_devices_hosted: Callable[..., pytest.RunResult]
) -> None:
    """Two JAX CPU devices (a session host started with XLA_FLAGS), a defect planted on the second one."""
    pytester.makepyfile(test_suite=PARITY_SUITE)
    saved = two_jax_devices_hosted("--accel=all", "--accel-save=base.json", *BUDGETS)
    saved.assert_outcomes(passed=1, failed=1)
    # A threshold that load on a shared machine cannot reach: the gate is on, but only the test fails.
    result = two_jax_devices_hosted(
        "--accel=all", "--accel-compare=base.json", *BUDGETS, "--accel-fail-slower=1000%"
    )
    result.assert_outcomes(passed=1, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*parity failed on jax cpu:1*", "FAILED test_suite.py::test_scaled*cpu:1*"])
    assert _gate_line(result).startswith("accel gate: passed")
    assert "accel gate: FAILED" not in result.stdout.str()


# -- what is compared with what ------------------------------------------------------------------------


def test_other_hardware_is_not_comparable_unless_asked(gate: Gate) -> None:
    gate.write_suite()
    document = gate.save(4, *DECISIVE_BASELINE)
    for result in document["results"]:
        result["hardware"] = "Imaginary Accelerator 9000"
    gate.write_document(document)
    result = gate.compare(16, *DECISIVE, "--accel-fail-slower=10%")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([f"*{SORT_TEST}*not comparable*hardware differs*Imaginary Accelerator 9000*"])
    assert gate.verdicts()[SORT_TEST]["verdict"] == "not comparable"
    compared = gate.compare(16, *DECISIVE, "--accel-fail-slower=10%", "--accel-compare-any-hardware")
    assert compared.ret == pytest.ExitCode.TESTS_FAILED
    assert gate.verdicts()[SORT_TEST]["verdict"] == "slower"


def test_machine_differences_are_listed_in_the_terminal_and_the_report(gate: Gate) -> None:
    gate.write_suite()
    document = gate.save()
    (machine,) = document["machines"].values()
    machine["cpu"] = "Old CPU 9000"
    machine["frameworks"]["numpy"]["version"] = "0.0.1"
    gate.write_document(document)
    result = gate.compare(4, *BUDGETS, "--accel-report=gate.md")
    assert result.ret == pytest.ExitCode.OK
    (line,) = [line for line in result.stdout.lines if line.startswith("machine differences:")]
    assert "cpu: Old CPU 9000 -> " in line and "numpy version: 0.0.1 -> " in line
    markdown = (gate.pytester.path / "gate.md").read_text()
    assert "### Machine differences" in markdown
    assert "| cpu " in markdown and "Old CPU 9000" in markdown and "0.0.1" in markdown


def test_a_version_1_baseline_is_still_compared(gate: Gate) -> None:
    gate.write_suite()
    document = gate.save(4, *DECISIVE_BASELINE)
    (machine,) = document.pop("machines").values()
    document["version"] = 1
    document["machine"] = machine
    for result in document["results"]:
        del result["machine"]
        result.pop("fail_slower", None)
        for bench in result["benches"]:
            bench.pop("budget_s", None)
            bench.pop("gate_extended_s", None)
    gate.write_document(document)
    result = gate.compare(16, *DECISIVE)
    assert result.ret == pytest.ExitCode.OK, _output(result)
    assert gate.verdicts()[SORT_TEST]["verdict"] == "slower"
    assert not [line for line in result.stdout.lines if line.startswith("machine differences:")]


# -- bad baselines and bad options ---------------------------------------------------------------------


def _bad_samples(text: str) -> str:
    document = json.loads(text)
    document["results"][0]["benches"][0]["samples"] = [0.001, "fast", -1]
    return json.dumps(document)


BAD_BASELINES = {
    "missing": (None, "no such file"),
    "not-json": (lambda text: "this is not JSON", "not valid JSON"),
    "truncated": (lambda text: text[: len(text) // 2], "not valid JSON"),
    "other-format": (lambda text: '{"format": "other", "version": 2, "results": []}', "not a pytest-accel"),
    "newer-version": (
        lambda text: json.dumps(dict(json.loads(text), version=99)),
        "format version 99, written by a newer pytest-accel",
    ),
    "bad-samples": (_bad_samples, "'samples' must be a list of positive finite seconds"),
}


@pytest.mark.parametrize("case", sorted(BAD_BASELINES))
def test_a_bad_baseline_is_a_usage_error_naming_the_file(gate: Gate, case: str) -> None:
    gate.write_suite()
    damage, reason = BAD_BASELINES[case]
    if damage is not None:
        gate.save()
        gate.baseline.write_text(damage(gate.baseline.read_text()))
    result = gate.compare(4, *BUDGETS)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = _output(result)
    assert "--accel-compare" in output and str(gate.baseline) in output and reason in output
    assert "Traceback" not in output and "INTERNALERROR" not in output
    assert "passed" not in result.stdout.str()
    assert not (gate.pytester.path / "gate.json").exists()


def test_saving_over_the_baseline_is_a_usage_error(gate: Gate) -> None:
    gate.write_suite()
    gate.save()
    before = gate.baseline.read_bytes()
    result = gate.run(16, "--accel-compare=base.json", "--accel-save=./base.json", *BUDGETS)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--accel-save=./base.json names the baseline given to --accel-compare" in result.stderr.str()
    assert gate.baseline.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--accel-compare=base.json", "--accel-report=base.json"],
            "names the baseline given to --accel-compare",
        ),
        (["--accel-save=new.json", "--accel-report=new.json"], "names the results file of --accel-save"),
    ],
)
def test_a_report_over_the_baseline_or_the_saved_results_is_a_usage_error(
    gate: Gate, args: list[str], message: str
) -> None:
    gate.write_suite()
    gate.save()
    before = gate.baseline.read_bytes()
    result = gate.run(4, *args, *BUDGETS)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--accel-report=" in result.stderr.str() and message in result.stderr.str()
    assert gate.baseline.read_bytes() == before
    assert not (gate.pytester.path / "new.json").exists()


@pytest.mark.parametrize(
    ("args", "ini", "named"),
    [
        (["--accel-fail-slower=abc"], "", "--accel-fail-slower='abc' is not a percentage"),
        (["--accel-fail-slower=-5%"], "", "--accel-fail-slower='-5%' must be a percentage above 0"),
        (["--accel-gate-noise=x"], "", "--accel-gate-noise='x' is not a percentage"),
        (["--accel-gate-budget=0"], "", "--accel-gate-budget='0' must be a finite number greater than 0"),
        ([], "accel_fail_slower = ten", "ini accel_fail_slower='ten' is not a percentage"),
        ([], "accel_step_summary = maybe", "ini accel_step_summary='maybe': use true or false"),
    ],
)
def test_bad_option_values_are_usage_errors_naming_the_option(
    gate: Gate, args: list[str], ini: str, named: str
) -> None:
    gate.write_suite()
    if ini:
        gate.pytester.makeini(f"[pytest]\n{ini}\n")
    result = gate.run(4, "--accel-bench-budget=0.05", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert named in result.stderr.str()
    assert "Traceback" not in _output(result)


# -- reports and the job summary -----------------------------------------------------------------------


def test_reports_carry_the_verdicts(gate: Gate) -> None:
    gate.write_suite()
    gate.save(4, *DECISIVE_BASELINE)
    result = gate.compare(16, *DECISIVE, "--accel-report=r.md", "--accel-report=r.json")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ["accel: markdown report written to *r.md", "accel: JSON report written to *r.json"]
    )
    report = json.loads((gate.pytester.path / "r.json").read_text())
    assert report["format"] == "pytest-accel-report"
    assert report["gate"]["mode"] == "compare" and report["gate"]["failed"] is False
    assert [(v["test"], v["verdict"]) for v in report["gate"]["verdicts"]] == [(SORT_TEST, "slower")]
    assert [r["test"] for r in report["results"]] == [SORT_TEST]
    markdown = (gate.pytester.path / "r.md").read_text()
    assert markdown.startswith("## pytest-accel: \u2139\ufe0f report only\n")
    assert "### Regressions (1)" in markdown and "reported only" in markdown


def test_a_run_without_a_baseline_reports_its_results(gate: Gate) -> None:
    gate.write_suite()
    result = gate.run(4, *BUDGETS, "--accel-report=plain.md", "--accel-report=plain.json")
    assert result.ret == pytest.ExitCode.OK
    report = json.loads((gate.pytester.path / "plain.json").read_text())
    assert report["format"] == "pytest-accel-report" and report["gate"] is None
    assert [(r["test"], r["outcome"]) for r in report["results"]] == [(SORT_TEST, "passed")]
    assert report["results"][0]["benches"][0]["name"] == "sort"
    markdown = (gate.pytester.path / "plain.md").read_text()
    assert markdown.startswith("## pytest-accel results\n") and SORT_TEST in markdown
    assert "accel gate" not in result.stdout.str()


def test_a_report_with_an_unknown_suffix_is_a_usage_error(gate: Gate) -> None:
    gate.write_suite()
    result = gate.run(4, *BUDGETS, "--accel-report=r.txt")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--accel-report=" in result.stderr.str() and "r.txt" in result.stderr.str()
    assert "unknown report format '.txt'" in result.stderr.str()
    assert not (gate.pytester.path / "r.txt").exists()


@pytest.fixture
def step_summary(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    summary = pytester.path / "summary.md"
    """A job summary file that an earlier step already wrote to."""
    summary.write_text("# an earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    yield summary


def test_markdown_is_appended_to_the_step_summary(gate: Gate, step_summary: Path) -> None:
    gate.write_suite()
    gate.save(4, *DECISIVE_BASELINE)
    result = gate.compare(16, *DECISIVE)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["accel: report appended to the GitHub step summary*"])
    text = step_summary.read_text()
    assert text.startswith("# an earlier step\n")
    results_heading, gate_heading = text.find("## pytest-accel results"), text.find("## pytest-accel: ")
    assert 0 < results_heading < gate_heading  # the saving run first, then the compare run
    assert text.count("## pytest-accel") == 2


def test_the_step_summary_can_be_turned_off(gate: Gate, step_summary: Path) -> None:
    gate.write_suite()
    gate.pytester.makeini("[pytest]\naccel_step_summary = false\n")
    gate.save()
    result = gate.compare(4, *BUDGETS)
    assert result.ret == pytest.ExitCode.OK
    assert step_summary.read_text() == "# an earlier step\n"
    assert "step summary" not in result.stdout.str()


# -- sampling in compare mode --------------------------------------------------------------------------


DRIFTING_SUITE = (
    SORT_FUNCTIONS
    + """

STARTED = []


def drifting(x):
    # One more sort every 10 ms: blocks of samples never agree, so no number of samples settles the level.
    if not STARTED:
        STARTED.append(time.perf_counter())
    for _ in range(min(200, 1 + int((time.perf_counter() - STARTED[0]) / 0.01))):  # 2 s, even when slow
        np.sort(x)
    return float(x[0])


@pytest.mark.accel(framework="numpy")
def test_sort(accel_device):
    accel_device.check(accel_device.bench(work, accel_device.asarray(DATA), name="sort"))


@pytest.mark.accel(framework="numpy")
def test_drifting(accel_device):
    accel_device.check(accel_device.bench(drifting, accel_device.asarray(DATA), name="drifting"))
"""
)

STOP_REASONS = {"stable", "budget", "max-samples", "gate-decided", "gate-budget"}


def test_compare_mode_samples_undecided_benches_within_the_gate_budget(gate: Gate) -> None:
    gate.write_suite(DRIFTING_SUITE)
    gate.save()
    result = gate.compare(4, *BUDGETS, "--accel-gate-noise=0", "--accel-save=new.json")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    saved = json.loads((gate.pytester.path / "new.json").read_text())
    assert saved["version"] == 3 and saved["options"]["compare"] == str(gate.baseline)
    benches = {bench["name"]: bench for row in saved["results"] for bench in row["benches"]}
    assert set(benches) == {"sort", "drifting"}
    extra_budget = 0.2 - 0.05  # --accel-gate-budget minus the bench budget
    for bench in benches.values():
        assert bench["budget_s"] == 0.05 and bench["stop_reason"] in STOP_REASONS
        extended = bench["gate_extended_s"]
        if bench["stop_reason"].startswith("gate-"):
            assert 0 < extended < extra_budget + 0.5, bench  # a last round of samples may overrun a little
        else:
            assert extended == 0, bench
    # A drifting level is still undecided when the bench budget is spent: the gate samples on.
    assert benches["drifting"]["stop_reason"] in ("gate-decided", "gate-budget"), benches["drifting"]
