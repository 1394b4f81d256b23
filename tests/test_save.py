"""--accel-save: the results file, its fingerprint, and that a bad or interrupted run never damages it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_accel.results.file import ResultsFileError, load_results, save_atomically

SUITE = """
import numpy as np
import pytest

@pytest.mark.accel(framework="numpy", dtypes=["float32", "float64"])
def test_matmul(accel_device):
    a = accel_device.randn(16, 16)
    out = accel_device.bench(np.matmul, a, a, name="matmul")
    accel_device.check(out, name="out")
"""


def _strict_load(path: Path) -> dict:
    def reject(constant: str) -> None:
        raise AssertionError(f"non-JSON constant {constant} in the results file")

    return json.loads(path.read_text(), parse_constant=reject)


def test_saved_file_has_samples_statistics_and_fingerprint(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SUITE)
    result = pytester.runpytest("--accel-save=results.json", "--accel-bench-budget=0.02")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["accel: results of 2 items saved to *results.json"])
    document = _strict_load(pytester.path / "results.json")
    assert document["format"] == "pytest-accel-results" and document["version"] == 3
    (machine_id,) = document["machines"]
    assert all(result["machine"] == machine_id for result in document["results"])
    machine = document["machines"][machine_id]
    assert machine["cpu"] and machine["python"] and machine["cpu_count"] >= 1
    assert set(machine["frameworks"]["numpy"]["devices"]) == {"cpu"}
    assert document["options"]["accel"] == "cpu"
    rows = {(r["test"], r["device"], r["dtype"]): r for r in document["results"]}
    assert set(rows) == {
        ("test_saved_file_has_samples_statistics_and_fingerprint.py::test_matmul", "cpu", d)
        for d in ("float32", "float64")
    }
    for row in rows.values():
        (bench,) = row["benches"]
        assert bench["name"] == "matmul" and bench["method"] == "perf_counter"
        assert len(bench["samples"]) >= 3 and all(isinstance(s, float) and s > 0 for s in bench["samples"])
        assert min(bench["samples"]) <= bench["median_s"] <= max(bench["samples"])
        assert bench["first_call_s"] > 0 and bench["calls_per_sample"] >= 1 and bench["iqr_s"] >= 0
        assert row["checks"] == [
            {
                "name": "out",
                "passed": True,
                "headroom": None,
                "error_vs_oracle": None,
                "reference_error_vs_oracle": None,
                "reproducible": True,
            }
        ]
        assert row["outcome"] == "passed" and row["is_reference"] is True
    assert load_results(pytester.path / "results.json")["results"] == document["results"]


def test_interrupted_run_leaves_the_existing_file_intact(pytester: pytest.Pytester) -> None:
    baseline = pytester.path / "baseline.json"
    baseline.write_text('{"precious": true}\n')
    pytester.makepyfile(
        SUITE
        + """
def test_interrupt():
    raise KeyboardInterrupt
"""
    )
    result = pytester.runpytest_subprocess("--accel-save=baseline.json", "--accel-bench-budget=0.02")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*results NOT saved to *baseline.json: the run stopped early*"])
    assert baseline.read_text() == '{"precious": true}\n'


def test_run_stopped_by_maxfail_does_not_overwrite(pytester: pytest.Pytester) -> None:
    baseline = pytester.path / "baseline.json"
    baseline.write_text("keep")
    pytester.makepyfile(
        """
        import pytest

        def test_fails():
            assert False

        @pytest.mark.accel(framework="numpy")
        def test_later(accel_device):
            accel_device.check(accel_device.randn(2))
        """
    )
    result = pytester.runpytest("-x", "--accel-save=baseline.json")
    result.assert_outcomes(failed=1)
    assert baseline.read_text() == "keep"


def test_unwritable_destination_is_a_usage_error_before_the_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SUITE)
    result = pytester.runpytest("--accel-save=missing/dir/results.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--accel-save=*missing/dir/results.json: the folder * does not exist*"])
    assert "passed" not in result.stdout.str()


def test_failure_while_writing_keeps_the_old_file_and_leaves_no_debris(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "results.json"
    target.write_text("old")

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("os.fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        save_atomically(target, {"format": "x"})
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]
    with pytest.raises(ValueError):
        save_atomically(target, {"bad": float("nan")})
    assert target.read_text() == "old"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not valid JSON"),
        ('{"format": "other"}', "not a pytest-accel results file"),
        ('{"format": "pytest-accel-results", "version": 99, "results": []}', "format version 99"),
        ('{"format": "pytest-accel-results", "version": 1}', "'results' entry is missing"),
    ],
)
def test_loading_a_bad_file_says_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(content)
    with pytest.raises(ResultsFileError, match=message):
        load_results(path)
    with pytest.raises(ResultsFileError, match="no such file"):
        load_results(tmp_path / "absent.json")
