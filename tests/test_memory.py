"""Peak memory per bench: measured where the framework tells (numpy through tracemalloc), "not measured"
where it cannot (JAX's and torch's CPU), saved (format version 3), shown, and gated exactly."""

from __future__ import annotations

import json

import pytest
from measurement_suite import BASE, MEMORY_ONLY, measurement_project
from shared_sessions import SharedProject

from pytest_accel.gate.memory import (
    GREW,
    MIN_GROWTH_BYTES,
    NEW,
    NOT_COMPARABLE,
    NOT_MEASURED,
    SHRANK,
    UNCHANGED,
    failure_line,
    memory_verdicts,
)
from pytest_accel.results.file import ResultsFileError, load_results
from pytest_accel.timing.memory import NO_NEW_PEAK, format_bytes, peak_of_call

MB = 1_000_000


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> SharedProject:
    return measurement_project(tmp_path_factory)


def _benches(document: dict, test_part: str) -> list[dict]:
    return [b for r in document["results"] if test_part in r["nodeid"] for b in r["benches"]]


def test_an_80_mb_bench_reports_80_mb_and_cpu_jax_says_not_measured(project: SharedProject) -> None:
    result = project.run(*BASE)
    document = load_results(project.path / "base.json")
    assert document["version"] == 3
    peaks = [b["peak_bytes"] for b in _benches(document, "test_alloc")]
    assert len(peaks) == 3 and all(abs(p - 80 * MB) <= 8 * MB for p in peaks), peaks
    assert all(b["memory_method"] == "tracemalloc" for b in _benches(document, "test_alloc"))
    jax_bench = _benches(document, "test_jit[jax")[0]
    assert jax_bench["peak_bytes"] is None and "memory_stats" in jax_bench["memory_note"]
    summary = "\n".join(result.outlines)
    assert "peak mem" in summary and "80 MB" in summary and "not measured" in summary
    report = (project.path / "r.md").read_text()
    assert "peak mem" in report and "80 MB" in report
    rows = json.loads((project.path / "r.json").read_text())["results"]
    assert [b["peak_bytes"] for r in rows if "test_alloc" in r["nodeid"] for b in r["benches"]] == peaks


def test_the_memory_gate_fails_a_doubled_peak_and_passes_unchanged_code(project: SharedProject) -> None:
    project.run(*BASE)
    doubled = project.run(*MEMORY_ONLY, "--factor=2", "--accel-save=doubled.json")
    again = project.run(*MEMORY_ONLY, "--accel-save=again.json")
    assert doubled.ret == 0 and again.ret == 0
    base = load_results(project.path / "base.json")
    grown = memory_verdicts(base, load_results(project.path / "doubled.json"), 0.20)
    alloc = [v for v in grown if "test_alloc[" in v.test]
    assert [v.verdict for v in alloc] == [GREW] * 3, alloc  # each of the three copies, exactly
    assert all(1.9 < v.ratio < 2.1 for v in alloc)
    assert grown[0].verdict == GREW  # regressions first
    line = failure_line(grown)
    assert line is not None and "3 benchmark(s)" in line and "test_alloc" in line
    same = memory_verdicts(base, load_results(project.path / "again.json"), 0.20)
    assert [v.verdict for v in same if "test_alloc[" in v.test] == [UNCHANGED] * 3
    assert failure_line(same) is None


def _document(*benches: tuple[str, int | None], hardware: str = "cpu") -> dict:
    return {
        "results": [
            {
                "test": f"t.py::{name}",
                "framework": "numpy",
                "device": "cpu",
                "dtype": "float32",
                "hardware": hardware,
                "benches": [{"name": "b", "peak_bytes": peak, "memory_note": "" if peak else "cannot tell"}],
            }
            for name, peak in benches
        ]
    }


def test_memory_verdicts_are_exact_and_ordered() -> None:
    base = _document(("grew", 100 * MB), ("same", 10 * MB), ("shrank", 10 * MB), ("unknown", None))
    base["results"] += _document(("gone", 1))["results"]
    new = _document(("grew", 130 * MB), ("same", 11 * MB), ("shrank", 5 * MB), ("unknown", 5), ("added", 7))
    verdicts = memory_verdicts(base, new, 0.25)
    by_test = {v.test.removeprefix("t.py::"): v.verdict for v in verdicts}
    assert by_test == {
        "grew": GREW,
        "same": UNCHANGED,
        "shrank": SHRANK,
        "unknown": NOT_MEASURED,
        "gone": "missing",
        "added": NEW,
    }
    assert verdicts[0].test == "t.py::grew" and verdicts[0].fails
    assert verdicts[-1].verdict == UNCHANGED
    unknown = next(v for v in verdicts if v.verdict == NOT_MEASURED)
    assert unknown.note == "not measured in the baseline: cannot tell"


def test_tiny_growth_never_fails_and_several_runs_combine_conservatively() -> None:
    tiny = memory_verdicts(_document(("t", 1000)), _document(("t", 1000 + MIN_GROWTH_BYTES - 1)), 0.2)
    assert tiny[0].verdict == UNCHANGED
    # the baseline's largest peak against the new code's smallest: a grew verdict holds for every run
    verdicts = memory_verdicts(
        [_document(("t", 10 * MB)), _document(("t", 12 * MB))],
        [_document(("t", 14 * MB)), _document(("t", 15 * MB))],
        0.2,
    )
    assert verdicts[0].verdict == UNCHANGED and verdicts[0].ratio == pytest.approx(14 / 12)
    a100, h100 = _document(("t", MB), hardware="A100"), _document(("t", 9 * MB), hardware="H100")
    assert memory_verdicts(a100, h100, 0.2)[0].verdict == NOT_COMPARABLE
    assert memory_verdicts(a100, h100, 0.2, any_hardware=True)[0].verdict == GREW


class _JaxLikeMeter:
    """A meter whose peak cannot be reset (as JAX's memory_stats): known only when a new peak is set."""

    method = "fake"
    resets = False
    per_item = True

    def __init__(self, in_use: int, peak: int) -> None:
        self.now, self.highest = in_use, peak

    def tracing(self):
        import contextlib

        return contextlib.nullcontext()

    def in_use(self) -> int:
        return self.now

    def reset_peak(self) -> int:
        return self.highest

    def peak(self) -> int:
        return self.highest


def test_a_peak_that_cannot_be_reset_is_reported_only_when_the_call_sets_a_new_one() -> None:
    meter = _JaxLikeMeter(in_use=1000, peak=5000)

    def allocate(size: int):
        def call() -> None:
            meter.highest = max(meter.highest, meter.now + size)

        return call

    assert peak_of_call(allocate(9000), meter).peak_bytes == 9000  # a new peak: 10,000 - 1,000 in use
    below = peak_of_call(allocate(100), meter)
    assert below.peak_bytes is None and below.note == NO_NEW_PEAK
    unmeasured = peak_of_call(lambda: None, "torch does not count its CPU allocations")
    assert unmeasured.peak_bytes is None and format_bytes(unmeasured.peak_bytes) == "not measured"
    assert format_bytes(0) == "0 B" and format_bytes(80_000_000) == "80 MB"


def test_a_saved_peak_that_is_no_count_is_refused(tmp_path) -> None:
    document = {
        "format": "pytest-accel-results",
        "version": 3,
        "machines": {"m": {}},
        "results": [
            {
                "nodeid": "t.py::t[x]",
                "test": "t.py::t",
                "framework": "numpy",
                "device": "cpu",
                "dtype": "float32",
                "machine": "m",
                "benches": [{"name": "b", "samples": [1.0], "peak_bytes": -5}],
            }
        ],
    }
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ResultsFileError, match="'peak_bytes' must be a whole number >= 0 or null"):
        load_results(path)
