"""Issue 15.7: a suite that already times with pytest-benchmark, adopted through its conftest alone.

In an accel item, ``benchmark(fn, x)`` and ``benchmark.pedantic(fn, args=...)`` are timed by
``accel_device.bench`` (synchronized, per device, in the summary, the saved file and the gate, duet
included); outside accel items the fixture is pytest-benchmark's own.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("pytest_benchmark", reason="pytest-benchmark (the test extra) is not installed")

from test_duet import FAST_PYTEST, duet, git, make_project, set_reps

# The suite as its authors wrote it: pytest-benchmark tests, no accel_device anywhere.
BENCHMARK_SUITE = """
import numpy as np


def test_sort(benchmark):
    x = np.random.default_rng(0).standard_normal(5000)
    out = benchmark(np.sort, x)
    assert out[0] <= out[-1]


def test_cumsum(benchmark):
    x = np.arange(1000.0)
    out = benchmark.pedantic(np.cumsum, args=(x,), rounds=3)
    assert out[-1] == x.sum()
"""

PLAIN_SUITE = """
def test_plain(benchmark):
    assert benchmark(sum, [1, 2, 3]) == 6
"""

# The adoption: every test of this folder runs on every device (an autouse fixture that needs
# accel_device), under the framework the ini names.
ADOPTING_CONFTEST = """
import pytest


@pytest.fixture(autouse=True)
def _on_every_accel_device(accel_device):
    yield
"""
ADOPTING_INI = "[pytest]\naccel_framework = numpy\naccel_dtypes = float32 float64\n"


def test_an_adopted_benchmark_suite_is_timed_per_device_and_plain_tests_keep_pytest_benchmark(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # pytest-benchmark sleeps under xdist
    pytester.makeini(ADOPTING_INI)
    adopted = pytester.mkdir("adopted")
    (adopted / "conftest.py").write_text(ADOPTING_CONFTEST)
    (adopted / "test_bench.py").write_text(BENCHMARK_SUITE)
    (pytester.path / "test_plain.py").write_text(PLAIN_SUITE)
    result = pytester.runpytest("--accel-bench-budget=0.02", "--accel-save=out.json", "-p", "no:randomly")
    result.assert_outcomes(passed=5)  # 2 tests x 2 dtypes, adopted, and the plain one
    document = json.loads((pytester.path / "out.json").read_text())
    benches = sorted(
        (r["test"].split("::")[-1], r["dtype"], b["name"]) for r in document["results"] for b in r["benches"]
    )
    assert benches == [
        ("test_cumsum", "float32", "cumsum"),
        ("test_cumsum", "float64", "cumsum"),
        ("test_sort", "float32", "sort"),
        ("test_sort", "float64", "sort"),
    ]
    assert all(len(b["samples"]) >= 3 for r in document["results"] for b in r["benches"])
    result.stdout.re_match_lines([r"test_sort\s+float64\s+sort\s+\S+ \S+ ±\d+%"])  # in the accel summary
    # the plain test is pytest-benchmark's: its own table names it, and no accel item was made of it
    result.stdout.fnmatch_lines(["*benchmark: 1 tests*", "test_plain *"])
    assert not any("test_plain" in r["nodeid"] for r in document["results"])


DUET_TEST = """\
import mylib
import numpy as np


def test_it(benchmark):
    benchmark(mylib.work, np.random.default_rng(0).standard_normal(20000))
"""


def test_a_duet_of_an_adopted_benchmark_suite_catches_a_slowdown(tmp_path: Path) -> None:
    """test_duet's project, its test written for pytest-benchmark and adopted by its conftest."""
    repo = make_project(tmp_path)
    (repo / "tests" / "test_mylib.py").write_text(DUET_TEST)
    (repo / "tests" / "conftest.py").write_text(ADOPTING_CONFTEST)
    (repo / "pytest.ini").write_text("[pytest]\naccel_framework = numpy\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "the benchmark suite, adopted")
    set_reps(repo, 12)  # 3x the work of the committed 4
    report = tmp_path / "duet.json"
    done = duet(
        repo, "HEAD", "--rounds", "4", "--fail-slower=10%", "--report", str(report), "--", *FAST_PYTEST
    )
    assert done.returncode == 1, done.stdout + done.stderr
    (verdict,) = json.loads(report.read_text())["gate"]["verdicts"]
    assert verdict["verdict"] == "slower" and verdict["ratio"] > 2
    assert "test_it" in done.stdout
