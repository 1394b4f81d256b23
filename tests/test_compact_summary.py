"""A big run's accel section fits a screen (issue 15, item 6): past COMPACT_ROWS table rows the terminal
gets, per device, the counts, parity quantiles and worst checks, the largest and smallest speedups, the
failures first; the full table stays in -v, --accel-summary=full and the markdown report. Charts of a big
run are overviews, not a file per test, and every time axis reads in s, ms, us."""

from __future__ import annotations

import importlib.util
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from pytest_accel.results.records import CheckResult, ItemRecord
from pytest_accel.summary.layout import count_rows
from pytest_accel.summary.markdown import render_markdown
from pytest_accel.summary.terminal import COMPACT_ROWS, render_summary, wants_compact
from pytest_accel.timing.measure import BenchResult

needs_matplotlib = pytest.mark.skipif(
    importlib.util.find_spec("matplotlib") is None, reason="matplotlib (the plot extra) is not installed"
)

# (framework, device, is_reference): two frameworks, each with its reference and one other device.
DEVICES = [("torch", "cpu", True), ("torch", "cuda:0", False), ("jax", "cpu", True), ("jax", "cpu:1", False)]
DTYPES = ("float32", "bfloat16")
SPECIAL = {"fastest": 400.0, "slowest": 0.2}  # speedups of two tests on every non-reference device


def _bench(median: float) -> BenchResult:
    samples = [median * (1 + 0.01 * (i % 5)) for i in range(20)]
    return BenchResult("op", "perf_counter", samples, 1, median, 1, "stable")


def _record(
    test: str, device: tuple[str, str, bool], dtype: str, speedup: float, headroom: float
) -> ItemRecord:
    framework, name, reference = device
    checks = [] if reference else [CheckResult("out", True, headroom)]
    return ItemRecord(
        nodeid=f"{test[:-1]}-{framework}-{name}-{dtype}]",
        test=test,
        framework=framework,
        framework_version="1",
        device=name,
        hardware="hw",
        dtype=dtype,
        is_reference=reference,
        reference_device="cpu",
        checks=checks,
        benches=[_bench(1e-3 / (1.0 if reference else speedup))],
        outcome="passed",
    )


def synthetic_run(tests: int = 1000) -> list[ItemRecord]:
    """tests x 2 dtypes x 4 devices items, all timed: 7 failures and one error on torch cuda:0, the worst
    parity (9.5, a failure) there too, a near miss (0.97, passed) on jax cpu:1."""
    names = [*SPECIAL, "worst", "near_miss"] + [str(i) for i in range(tests - len(SPECIAL) - 2)]
    records = [
        _record(f"tests/test_ops.py::test_op[{name}]", device, dtype, SPECIAL.get(name, 2.0 + index % 7), 0.1)
        for index, name in enumerate(names)
        for dtype in DTYPES
        for device in DEVICES
    ]
    by_id = {record.nodeid: record for record in records}
    for index in range(7):
        failed = by_id[f"tests/test_ops.py::test_op[{index}-torch-cuda:0-float32]"]
        failed.outcome, failed.checks = "failed", [CheckResult("out", False, 2.0 + index / 10)]
    by_id["tests/test_ops.py::test_op[10-torch-cuda:0-float32]"].outcome = "error"
    worst = by_id["tests/test_ops.py::test_op[worst-torch-cuda:0-bfloat16]"]
    worst.outcome, worst.checks = "failed", [CheckResult("logits", False, 9.5)]
    by_id["tests/test_ops.py::test_op[near_miss-jax-cpu:1-float32]"].checks = [
        CheckResult("grad", True, 0.97)
    ]
    return records


@pytest.fixture(scope="module")
def big_run() -> list[ItemRecord]:
    return synthetic_run()


def test_8000_items_fit_a_screenful_that_names_failures_worst_parity_and_speedups(
    big_run: list[ItemRecord],
) -> None:
    assert len(big_run) == 8000 and count_rows(big_run) == 4000
    text = render_summary(big_run, [], width=100)
    lines = text.splitlines()
    assert len(lines) <= 60, text
    assert max(map(len, lines)) <= 100, text
    # Failures first: nine in all, five named (in nodeid order, with the check that failed), the rest counted.
    assert text.index("failed (9):") < text.index("worst parity")
    failed = sorted(r.nodeid for r in big_run if r.outcome in ("failed", "error"))
    for nodeid in failed[:5]:
        assert nodeid.removeprefix("tests/test_ops.py::") in text
    assert "FAILED test_op[0-torch-cuda:0-float32], check out: parity FAIL 2.00" in text
    assert "ERROR test_op[10-torch-cuda:0-float32]" in text
    assert failed[5].removeprefix("tests/test_ops.py::") not in text and "and 4 more" in text
    # Per device: counts and parity quantiles (the reference devices have none).
    assert re.search(r"^torch cuda:0 +1991 +8 +0 +1 +0\.10 +0\.10 +9\.50$", text, re.M), text
    assert re.search(r"^jax cpu +2000 +0 +0 +0 +reference$", text, re.M), text
    # The worst checks: the failure with the worst parity, and the near miss on the other device.
    assert re.search(r"^torch cuda:0 +test_op\[worst\] +bfloat16 +logits +FAIL 9\.50$", text, re.M), text
    assert re.search(r"^jax cpu:1 +test_op\[near_miss\] +float32 +grad +0\.97$", text, re.M), text
    # The largest and smallest speedups, with their intervals; the reference device's slowest benchmark.
    assert re.search(r"^torch cuda:0 +2\.55 us ±1% +400x \[\S+-\S+\] +test_op\[fastest\] ", text, re.M), text
    assert re.search(r"^ +5\.1 ms ±1% +0\.2x \[\S+-\S+\] +test_op\[slowest\] ", text, re.M), text
    assert re.search(r"^torch cpu +1\.0\d ms ±1% +reference +test_op", text, re.M), text
    assert "the full table: pytest -v, --accel-summary=full, or the markdown report" in text


def test_the_compact_summary_fits_80_columns(big_run: list[ItemRecord]) -> None:
    lines = render_summary(big_run, [], width=80).splitlines()
    assert max(map(len, lines)) <= 80 and len(lines) <= 60


def test_small_runs_keep_the_table_and_the_mode_decides_for_big_ones(big_run: list[ItemRecord]) -> None:
    small = [
        _record(f"t.py::test_s[{i}]", device, "float32", 2.0, 0.1) for i in range(5) for device in DEVICES
    ]
    assert count_rows(small) == 10 <= COMPACT_ROWS
    table = render_summary(small, [], width=120)
    assert re.search(r"^test +framework +dtype +cpu +cpu:1 +speedup +parity +cuda:0 +speedup", table, re.M)
    assert re.search(
        r"^test_s\[4\] +torch +float32 +1\.02 ms ±1% +510 us ±1% +2x \[2-2\] +0\.10$", table, re.M
    )
    assert "the full table" not in table
    asked = render_summary(small, [], width=120, mode="compact")
    assert "(--accel-summary=compact)" in asked and "worst parity per device:" in asked
    assert wants_compact(big_run, "auto", verbose=False)
    assert not wants_compact(big_run, "auto", verbose=True)  # -v: the table
    assert not wants_compact(big_run, "full", verbose=False)
    assert wants_compact(big_run, "compact", verbose=True)  # asked for explicitly


def test_the_markdown_report_keeps_every_row_of_a_big_run(big_run: list[ItemRecord]) -> None:
    report = render_markdown(None, [record.to_dict() for record in big_run], {})
    rows = [line for line in report.splitlines() if line.startswith("| `tests/test_ops.py::test_op[")]
    assert len(rows) == 4000
    assert any("test_op[worst]" in row and "FAIL 9.5" in row for row in rows)


# -- real sessions -------------------------------------------------------------------------------------

SIXTY = """
import pytest

@pytest.mark.accel(framework="numpy")
@pytest.mark.parametrize("n", range(60))
def test_many(accel_device, n):
    accel_device.check(accel_device.randn(3))
    assert n != 7
"""


def _section(result: pytest.RunResult) -> str:
    text = result.stdout.str()
    return text[text.index("== accel ==") : text.index("short test summary")]


def test_a_session_of_60_rows_is_compact_by_default_and_full_when_asked(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    pytester.makepyfile(test_sixty=SIXTY)
    compact = pytester.runpytest("-p", "no:cacheprovider", "--accel-report=r.md")
    compact.assert_outcomes(passed=59, failed=1)
    section = _section(compact)
    assert "60 items, 60 table rows (more than a screen)" in section
    assert "failed (1):\n  FAILED test_many[numpy-cpu-float32-7]" in section
    assert re.search(r"^numpy cpu +59 +1 +0 +0 +reference$", section, re.M), section
    assert "test_many[59]" not in section  # no table rows
    assert len(section.splitlines()) < 25
    report = (pytester.path / "r.md").read_text()
    assert sum(line.startswith("| `test_sixty.py::test_many[") for line in report.splitlines()) == 60
    for arguments in (["--accel-summary=full"], ["-v"]):
        full = _section(pytester.runpytest("-p", "no:cacheprovider", *arguments))
        assert "the full table" not in full
        # a test without bench shows its whole body's time, in parentheses (issue 15.5)
        assert re.search(r"^test_many\[59\] +float32 +\(\d[\d.]* (s|ms|us|ns)\)$", full, re.M), full
        assert re.search(r"^test_many\[7\] +float32 +FAILED$", full, re.M), full


def test_the_ini_key_asks_for_the_compact_summary_of_a_small_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.accel(framework="numpy")
        def test_one(accel_device):
            accel_device.check(accel_device.randn(3))
        """
    )
    pytester.makeini("[pytest]\naccel_summary = compact\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["1 items, 1 table rows (--accel-summary=compact)*"])


@pytest.mark.parametrize(
    ("arguments", "ini", "named"),
    [
        (["--accel-summary=x"], "", "--accel-summary='x'"),
        ([], "[pytest]\naccel_summary = sometimes\n", "ini accel_summary='sometimes'"),
    ],
    ids=["option", "ini"],
)
def test_a_bad_mode_is_a_usage_error_naming_it_and_the_choices(
    pytester: pytest.Pytester, arguments: list[str], ini: str, named: str
) -> None:
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    if ini:
        pytester.makeini(ini)
    result = pytester.runpytest("-p", "no:cacheprovider", *arguments)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"{named}: use one of auto, full, compact" in result.stderr.str()


# -- charts --------------------------------------------------------------------------------------------

HUMAN_TIME = re.compile(r"^\d+(\.\d+)? (s|ms|us|ns)$")


def _svg_texts(path: Path) -> list[str]:
    root = ElementTree.parse(path).getroot()
    return [text.strip() for element in root.iter() for text in (element.text,) if text and text.strip()]


@needs_matplotlib
def test_a_big_run_gets_overviews_not_a_chart_per_test(tmp_path: Path) -> None:
    from pytest_accel.summary.charts import MAX_TIME_CHARTS, draw_charts

    records = synthetic_run(tests=MAX_TIME_CHARTS + 10)
    paths = draw_charts([record.to_dict() for record in records], tmp_path)
    assert sorted(path.name for path in paths) == ["overview-speedup.svg", "overview-times.svg"]
    times = _svg_texts(tmp_path / "overview-times.svg")
    assert sum(bool(HUMAN_TIME.match(text)) for text in times) >= 2, times  # ticks such as '1 ms'
    assert "torch cuda:0 (100)" in times and any("slowest:" in text for text in times)
    speedups = " ".join(_svg_texts(tmp_path / "overview-speedup.svg"))
    assert "test_op[fastest]" in speedups and "test_op[slowest]" in speedups


@needs_matplotlib
@pytest.mark.parametrize(("fast", "slow"), [(1.48e-4, 1.54e-4), (3e-6, 2e-2)], ids=["linear", "log"])
def test_time_axes_read_in_human_units(tmp_path: Path, fast: float, slow: float) -> None:
    from pytest_accel.summary.charts import draw_charts

    test = "t.py::test_t[x]"
    records = [
        _record(test, ("numpy", "cpu", True), "float32", 1.0, 0.0),
        _record(test, ("numpy", "cpu:1", False), "float32", 1.0, 0.1),
    ]
    records[0].benches, records[1].benches = [_bench(slow)], [_bench(fast)]
    draw_charts([record.to_dict() for record in records], tmp_path)
    texts = _svg_texts(tmp_path / "time-t.py_test_t_x.svg")
    ticks = [text for text in texts if HUMAN_TIME.match(text)]
    assert len(ticks) >= 2, texts
    assert not [text for text in texts if re.search(r"\de[-+]?\d|\$|\^", text)], texts  # no 1e-4, no 10^-4


def test_a_big_adopted_run_without_bench_says_per_device_how_its_whole_test_times_compare() -> None:
    """Issue 15.5: a suite that never calls bench still learns, in the compact summary, where each device
    got faster: the median of reference time / device time over its tests, and the extremes."""
    records = []
    for index in range(60):
        for device, seconds in (("cpu", 0.010), ("cuda:0", 0.010 / (2.0 + index % 3))):
            record = _record(f"t.py::test_op[{index}]", ("torch", device, device == "cpu"), "float32", 1, 0.1)
            record.benches, record.call_s = [], seconds
            records.append(record)
    slowest = next(r for r in records if r.nodeid == "t.py::test_op[7-torch-cuda:0-float32]")
    slowest.call_s = 0.040  # 4x slower than on the reference device
    text = render_summary(records, [], width=100)
    assert "whole-test times of tests without bench" in text
    assert re.search(r"^torch cuda:0 +60 +3\.00x +4\.00x +test_op\[\d+\] +float32$", text, re.M), text
    assert re.search(r"^ +0\.25x +test_op\[7\] +float32$", text, re.M), text
