"""``python -m pytest_accel merge`` and ``compare``: run as a user runs them, in a subprocess.

Exit codes are the interface CI scripts rely on (0 ok, 1 slower, 4 bad input), so every test checks one.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_accel.results.file import assemble_document, load_results, machine_id

MACHINE_A = {"python": "3.11.7", "platform": "linux", "machine": "x86_64", "cpu": "CPU A", "cpu_count": 2}
MACHINE_B = {"python": "3.11.7", "platform": "linux", "machine": "x86_64", "cpu": "CPU B", "cpu_count": 8}


def samples(median_s: float, seed: int, count: int = 30, spread: float = 0.003) -> list[float]:
    """Positive timings around ``median_s`` with a small, reproducible jitter."""
    draw = random.Random(seed)
    return [median_s * (1 + draw.uniform(-spread, spread)) for _ in range(count)]


def result(test: str = "test_ops.py::test_mm", median_s: float = 1e-3, seed: int = 0, **extra: Any) -> dict:
    """One saved result with one benchmark, as --accel-save writes it."""
    row = {
        "nodeid": f"{test}[numpy-cpu-float32]",
        "test": test,
        "framework": "numpy",
        "framework_version": "2.0.0",
        "device": "cpu",
        "hardware": "CPU A",
        "dtype": "float32",
        "is_reference": True,
        "reference_device": "cpu",
        "outcome": "passed",
        "checks": [{"name": "check0", "passed": True, "headroom": None}],
        "benches": [
            {
                "name": "mm",
                "method": "perf_counter",
                "samples": samples(median_s, seed),
                "calls_per_sample": 8,
                "first_call_s": 0.002,
                "warmup_calls": 2,
                "stop_reason": "stable",
            }
        ],
    }
    row.update(extra)
    return row


def document(results: list[dict], fingerprint: dict = MACHINE_A) -> dict:
    ident = machine_id(fingerprint)
    return assemble_document({ident: fingerprint}, {}, results, ident)


def version_1(results: list[dict], fingerprint: dict) -> dict:
    return {
        "format": "pytest-accel-results",
        "version": 1,
        "machine": fingerprint,
        "options": {},
        "results": results,
    }


def write(path: Path, content: dict | str) -> Path:
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def cli(*args: str | Path, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest_accel", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
    )


# -- merge ----------------------------------------------------------------------------------------------


def test_merge_files_from_two_machines(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", document([result("t.py::test_a")], MACHINE_A))
    b = write(tmp_path / "b.json", document([result("t.py::test_b")], MACHINE_B))
    done = cli("merge", a, b, "-o", tmp_path / "all.json")
    assert done.returncode == 0, done.stderr
    assert f"merged 2 results from 2 files (2 machines) into {tmp_path / 'all.json'}" in done.stdout
    merged = load_results(tmp_path / "all.json")
    assert merged["machines"] == {machine_id(MACHINE_A): MACHINE_A, machine_id(MACHINE_B): MACHINE_B}
    machines = {row["test"]: row["machine"] for row in merged["results"]}
    assert machines == {"t.py::test_a": machine_id(MACHINE_A), "t.py::test_b": machine_id(MACHINE_B)}
    assert merged["options"] == {"merged_from": [str(a), str(b)]}


def test_merge_reads_version_1_files(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", version_1([result("t.py::test_a")], MACHINE_A))
    b = write(tmp_path / "b.json", version_1([result("t.py::test_b")], MACHINE_B))
    done = cli("merge", a, b, "-o", tmp_path / "all.json")
    assert done.returncode == 0, done.stderr
    merged = json.loads((tmp_path / "all.json").read_text())
    assert merged["version"] == 3
    assert set(merged["machines"]) == {machine_id(MACHINE_A), machine_id(MACHINE_B)}
    assert [row["machine"] for row in merged["results"]] == [machine_id(MACHINE_A), machine_id(MACHINE_B)]


def test_merge_keeps_identical_duplicates_once(tmp_path: Path) -> None:
    shared = result("t.py::test_shared", seed=3)
    a = write(tmp_path / "a.json", document([shared, result("t.py::test_a")]))
    b = write(tmp_path / "b.json", document([shared, result("t.py::test_b")]))
    done = cli("merge", a, b, "-o", tmp_path / "all.json")
    assert done.returncode == 0, done.stderr
    tests = [row["test"] for row in load_results(tmp_path / "all.json")["results"]]
    assert tests == ["t.py::test_shared", "t.py::test_a", "t.py::test_b"]


def test_merge_conflicting_duplicates_exit_4_naming_them(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", document([result("t.py::test_x", seed=1)]))
    b = write(tmp_path / "b.json", document([result("t.py::test_x", seed=2)]))
    done = cli("merge", a, b, "-o", tmp_path / "all.json")
    assert done.returncode == 4
    assert "t.py::test_x[numpy-cpu-float32]" in done.stderr
    assert str(a) in done.stderr and str(b) in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "all.json").exists()


def test_merge_lists_ten_conflicts_then_a_count(tmp_path: Path) -> None:
    tests = [f"t.py::test_{i:02d}" for i in range(13)]
    a = write(tmp_path / "a.json", document([result(t, seed=1) for t in tests]))
    b = write(tmp_path / "b.json", document([result(t, seed=2) for t in tests]))
    done = cli("merge", a, b, "-o", tmp_path / "all.json")
    assert done.returncode == 4
    assert "t.py::test_09" in done.stderr and "t.py::test_10" not in done.stderr
    assert "and 3 more" in done.stderr


def test_merge_output_may_replace_an_input_and_leaves_the_others(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", document([result("t.py::test_a")]))
    b = write(tmp_path / "b.json", document([result("t.py::test_b")], MACHINE_B))
    before = b.read_bytes()
    done = cli("merge", a, b, "-o", a)
    assert done.returncode == 0, done.stderr
    assert len(load_results(a)["results"]) == 2
    assert b.read_bytes() == before


def test_merge_bad_input_exits_4_naming_the_file(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", document([result("t.py::test_a")]))
    bad = write(tmp_path / "bad.json", "{not json")
    done = cli("merge", a, bad, "-o", tmp_path / "all.json")
    assert done.returncode == 4
    assert done.stderr.startswith("error: ") and "bad.json" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "all.json").exists()


# -- compare --------------------------------------------------------------------------------------------


@pytest.fixture
def baseline(tmp_path: Path) -> Path:
    return write(tmp_path / "base.json", document([result("t.py::test_a", 1e-3, seed=1)]))


def test_compare_2x_slower_fails_and_names_the_benchmark(tmp_path: Path, baseline: Path) -> None:
    new = write(tmp_path / "new.json", document([result("t.py::test_a", 2e-3, seed=2)]))
    done = cli("compare", baseline, new, "--fail-slower=10%", "--noise=1%")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "t.py::test_a" in done.stdout


def _with_peak(row: dict, peak: int) -> dict:
    row["benches"][0].update(peak_bytes=peak, memory_method="tracemalloc", memory_note="")
    return row


def test_compare_fail_memory_fails_a_doubled_peak_and_passes_the_same(tmp_path: Path) -> None:
    """Exact, no statistics: the same timings, twice the peak memory, fail; the same peak passes."""
    base = write(tmp_path / "base.json", document([_with_peak(result("t.py::test_a", seed=1), 80_000_000)]))
    doubled = write(
        tmp_path / "big.json", document([_with_peak(result("t.py::test_a", seed=1), 160_000_000)])
    )
    done = cli(
        "compare",
        base,
        doubled,
        "--fail-memory=20%",
        "--fail-slower=10%",
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    final = " ".join(done.stdout[done.stdout.index("accel gate:") :].split())  # as wrapped
    assert final.startswith("accel gate: FAILED - memory: 1 benchmark(s)") and "t.py::test_a" in final
    assert "GREW (gate) t.py::test_a [numpy cpu float32] mm: 80 MB -> 160 MB (2.00x)" in done.stdout
    same = cli("compare", base, base, "--fail-memory=20", "--fail-slower=10%")
    assert same.returncode == 0, same.stdout + same.stderr
    bad = cli("compare", base, base, "--fail-memory=lots")
    assert bad.returncode == 4 and "--fail-memory" in bad.stderr and "Traceback" not in bad.stderr


def test_compare_unchanged_passes(tmp_path: Path, baseline: Path) -> None:
    new = write(tmp_path / "new.json", document([result("t.py::test_a", 1e-3, seed=2)]))
    report = tmp_path / "report.json"
    done = cli("compare", baseline, new, "--fail-slower=10", "--noise=1%", "--report", report)
    assert done.returncode == 0, done.stdout + done.stderr
    gate = json.loads(report.read_text())["gate"]
    assert gate["counts"]["unchanged"] == 1 and gate["fail_slower"] == pytest.approx(0.10)


def test_compare_without_fail_slower_only_reports(tmp_path: Path, baseline: Path) -> None:
    new = write(tmp_path / "new.json", document([result("t.py::test_a", 2e-3, seed=2)]))
    report = tmp_path / "report.json"
    done = cli("compare", baseline, new, "--noise=1%", "--report", report)
    assert done.returncode == 0, done.stdout + done.stderr
    gate = json.loads(report.read_text())["gate"]
    assert gate["counts"]["slower"] == 1 and gate["failed"] is False


def test_compare_writes_every_report(tmp_path: Path, baseline: Path) -> None:
    new = write(tmp_path / "new.json", document([result("t.py::test_a", 2e-3, seed=2)]))
    markdown, report = tmp_path / "out.md", tmp_path / "out.json"
    done = cli("compare", baseline, new, "--fail-slower=10%", "--report", markdown, "--report", report)
    assert done.returncode == 1
    assert "t.py::test_a" in markdown.read_text()
    written = json.loads(report.read_text())
    assert written["gate"]["mode"] == "compare" and written["gate"]["failed"] is True
    assert written["gate"]["baseline"] == str(baseline)


def test_compare_appends_the_github_step_summary(tmp_path: Path, baseline: Path) -> None:
    new = write(tmp_path / "new.json", document([result("t.py::test_a", 1e-3, seed=2)]))
    summary = write(tmp_path / "summary.md", "earlier step\n")
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary)}
    done = cli("compare", baseline, new, env=env)
    assert done.returncode == 0, done.stderr
    text = summary.read_text()
    assert text.startswith("earlier step\n") and "t.py::test_a" in text


BAD_FILES = {
    "missing": None,
    "not JSON": "this is not json",
    "truncated": '{"format": "pytest-accel-results", "version": 2, "results": [',
    "other format": json.dumps({"format": "something-else", "version": 1, "results": []}),
    "newer version": json.dumps({"format": "pytest-accel-results", "version": 99, "results": []}),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_compare_bad_baseline_exits_4_naming_it(tmp_path: Path, case: str) -> None:
    bad = tmp_path / "the-baseline.json"
    if BAD_FILES[case] is not None:
        write(bad, BAD_FILES[case])
    new = write(tmp_path / "new.json", document([result()]))
    done = cli("compare", bad, new, "--fail-slower=10%")
    assert done.returncode == 4
    assert done.stderr.startswith("error: ") and "the-baseline.json" in done.stderr
    assert "Traceback" not in done.stderr


def test_compare_bad_new_file_exits_4(tmp_path: Path, baseline: Path) -> None:
    new = write(tmp_path / "the-new.json", json.dumps({"format": "pytest-accel-results", "version": 99}))
    done = cli("compare", baseline, new)
    assert done.returncode == 4
    assert "the-new.json" in done.stderr and "newer" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("option", "value"),
    [
        *[("--fail-slower", v) for v in ("-5", "0", "abc", "10%%")],
        *[("--noise", v) for v in ("-5", "abc", "10%%")],  # a noise of 0 is a quiet machine
    ],
)
def test_compare_bad_percent_exits_4_naming_the_value(
    tmp_path: Path, baseline: Path, option: str, value: str
) -> None:
    done = cli("compare", baseline, baseline, f"{option}={value}")
    assert done.returncode == 4
    assert option in done.stderr and value in done.stderr
    assert "Traceback" not in done.stderr


def test_compare_bad_report_path_exits_4_before_reading_anything(tmp_path: Path) -> None:
    done = cli(
        "compare", tmp_path / "missing.json", tmp_path / "missing.json", "--report", tmp_path / "r.txt"
    )
    assert done.returncode == 4
    assert "r.txt" in done.stderr and "missing.json" not in done.stderr


def test_compare_leaves_the_baseline_file_unchanged(tmp_path: Path, baseline: Path) -> None:
    before = baseline.read_bytes()
    new = write(tmp_path / "new.json", document([result("t.py::test_a", 2e-3, seed=2)]))
    done = cli("compare", baseline, new, "--fail-slower=10%", "--report", tmp_path / "r.json")
    assert done.returncode == 1
    assert baseline.read_bytes() == before


# -- usage ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [[], ["frobnicate"], ["compare", "only-one.json"], ["merge", "a.json"], ["compare", "a", "b", "--nope"]],
)
def test_bad_arguments_exit_4_with_a_message(tmp_path: Path, args: list[str]) -> None:
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == 4
    assert "error: " in done.stderr and "Traceback" not in done.stderr


def test_help_exits_0() -> None:
    done = cli("--help")
    assert done.returncode == 0
    assert "merge" in done.stdout and "compare" in done.stdout and "duet" in done.stdout


def _command_paths(parser: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and subcommand of the parser, as the words that select it."""
    import argparse

    found = [path]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _command_paths(sub, (*path, name))
    return found


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    """A '%' in a help text made argparse crash on --help (history check and show did)."""
    from pytest_accel.cli.main import build_parser

    paths = _command_paths(build_parser())
    assert ("history", "check") in paths and ("duet",) in paths
    for path in paths:
        with pytest.raises(SystemExit) as exited:
            build_parser().parse_args([*path, "--help"])
        assert exited.value.code == 0, path
        assert "usage:" in capsys.readouterr().out, path


def test_compare_accepts_zero_noise(baseline: Path) -> None:
    done = cli("compare", baseline, baseline, "--noise=0")
    assert done.returncode == 0, done.stderr
    assert "run-to-run noise 0%" in done.stdout


def test_compare_never_writes_a_report_over_its_inputs(baseline: Path) -> None:
    before = baseline.read_bytes()
    done = cli("compare", baseline, baseline, "--report", baseline.with_suffix(".json"))
    assert done.returncode == 4 and "names an input file" in done.stderr
    assert baseline.read_bytes() == before


def test_compare_fits_the_terminal_width(tmp_path: Path) -> None:
    """The gate table of the command fits $COLUMNS as the plugin's does (issue 20.7)."""
    long_test = "tests/test_a_module_with_a_long_name.py::test_a_function_whose_name_is_long_too"
    base = write(tmp_path / "base.json", document([result(long_test, 1e-3, seed=1)]))
    new = write(tmp_path / "new.json", document([result(long_test, 2e-3, seed=2)]))
    done = cli("compare", base, new, "--fail-slower=10%", "--noise=1%", env={**os.environ, "COLUMNS": "80"})
    assert done.returncode == 1, done.stdout + done.stderr
    # a whole test id is kept whole where it is named for copying (it cannot be wrapped)
    too_long = [line for line in done.stdout.splitlines() if len(line) > 80 and " " in line.strip()]
    assert not too_long, "\n".join(too_long)
    assert "slower" in done.stdout
