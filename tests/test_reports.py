"""Reports of a compared run: markdown (pull-request comment), JSON, the files, the step summary, and the
gate's section of the terminal summary. All from small hand-made results documents."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from pytest_accel.gate import stats
from pytest_accel.gate.comparison import GateConfig, GateReport, compare_documents, compare_rounds
from pytest_accel.results.file import assemble_document
from pytest_accel.summary.formatting import shorten
from pytest_accel.summary.gate_section import MAX_TEST_ID, render_gate_section
from pytest_accel.summary.json_report import build_json_report
from pytest_accel.summary.markdown import render_markdown
from pytest_accel.summary.writer import ReportError, append_step_summary, check_report_path, write_reports

STEADY = [1e-3 * (1 + 0.002 * (i % 5)) for i in range(40)]  # many samples, a little jitter
NOISY = [1e-3, 3e-3, 1e-3, 3e-3, 1e-3, 3e-3]  # two blocks that disagree: nothing can be decided
CONFIG = GateConfig(fail_slower=0.10, run_noise=0.01)


def result(
    test: str,
    samples: list[float] | None,
    *,
    hardware: str = "EPYC",
    headroom: float | None = 0.1,
    passed: bool = True,
    is_reference: bool = False,
    device: str = "cpu",
) -> dict[str, Any]:
    """A version-2 result row as --accel-save writes it (the fields the reports read)."""
    row: dict[str, Any] = {
        "nodeid": f"{test}[numpy-{device}-float32]",
        "test": test,
        "framework": "numpy",
        "framework_version": "2.0",
        "device": device,
        "hardware": hardware,
        "dtype": "float32",
        "is_reference": is_reference,
        "reference_device": "cpu",
        "outcome": "passed" if passed else "failed",
        "checks": [{"name": "out", "passed": passed, "headroom": headroom}],
        "benches": [],
    }
    if samples is not None:
        ordered = sorted(samples)
        row["benches"].append(
            {
                "name": "op",
                "method": "perf_counter",
                "samples": list(samples),
                "median_s": ordered[len(ordered) // 2],
                "iqr_s": ordered[3 * len(ordered) // 4] - ordered[len(ordered) // 4],
                "first_call_s": 2e-3,
                "stop_reason": "stable",
            }
        )
    return row


def documents() -> tuple[dict[str, Any], dict[str, Any]]:
    """A baseline and a run: a benchmark of every verdict, another CPU, a check closer to failing."""
    base = assemble_document(
        {"m-a": {"cpu": "EPYC 7763", "python": "3.11"}},
        {},
        [
            result("t.py::test_slow", STEADY),
            result("t.py::test_fast", STEADY),
            result("t.py::test_same", STEADY),
            result("t.py::test_gone", STEADY),
            result("t.py::test_noisy", NOISY),
            result("t.py::test_hw", STEADY, hardware="H100"),
            result("t.py::test_parity", STEADY, headroom=0.1),
        ],
        "m-a",
    )
    new = assemble_document(
        {"m-b": {"cpu": "EPYC 9654", "python": "3.11"}},
        {},
        [
            result("t.py::test_slow", [2 * s for s in STEADY]),
            result("t.py::test_fast", [s / 2 for s in STEADY]),
            result("t.py::test_same", STEADY),
            result("t.py::test_new", STEADY),
            result("t.py::test_noisy", [1.05 * s for s in NOISY]),
            result("t.py::test_hw", STEADY, hardware="H200"),
            result("t.py::test_parity", STEADY, headroom=0.6),
        ],
        "m-b",
    )
    return base, new


@pytest.fixture
def compared() -> tuple[GateReport, dict[str, Any]]:
    base, new = documents()
    return compare_documents(base, new, CONFIG, "baseline.json"), new


def test_the_documents_give_every_verdict(compared: tuple[GateReport, dict[str, Any]]) -> None:
    """The premise of the other tests: each kind of verdict, a machine difference and a warning occur."""
    gate, _ = compared
    verdicts = {v.test: v.verdict for v in gate.verdicts}
    assert verdicts == {
        "t.py::test_slow": stats.SLOWER,
        "t.py::test_fast": stats.FASTER,
        "t.py::test_same": stats.UNCHANGED,
        "t.py::test_parity": stats.UNCHANGED,
        "t.py::test_noisy": stats.INCONCLUSIVE,
        "t.py::test_new": stats.NEW,
        "t.py::test_gone": stats.MISSING,
        "t.py::test_hw": stats.NOT_COMPARABLE,
    }
    assert gate.failed
    assert gate.machine_differences == [{"what": "cpu", "baseline": "EPYC 7763", "current": "EPYC 9654"}]
    assert [w["test"] for w in gate.headroom_warnings] == ["t.py::test_parity"]


# -- markdown ------------------------------------------------------------------------------------------


def test_markdown_puts_the_verdict_first_and_sections_in_order(
    compared: tuple[GateReport, dict[str, Any]],
) -> None:
    gate, new = compared
    text = render_markdown(gate, new["results"], new["machines"])
    lines = text.splitlines()
    assert lines[0] == "## pytest-accel: ❌ slower than baseline"
    assert gate.reason in text
    assert "compare (two separate runs" in text and "10% slower" in text and "at most 5%" in text
    headings = [
        "### Regressions",
        "### Improvements",
        "### Inconclusive",
        "### New",
        "### Missing",
        "### Not comparable",
        "<details><summary>2 unchanged</summary>",
        "### Machine differences",
        "### Parity warnings",
        "### Results",
    ]
    positions = [text.index(heading) for heading in headings]
    assert positions == sorted(positions)


def test_markdown_tables_carry_ratios_intervals_and_notes(
    compared: tuple[GateReport, dict[str, Any]],
) -> None:
    gate, new = compared
    text = render_markdown(gate, new["results"], new["machines"])
    regressions = text[text.index("### Regressions") : text.index("### Improvements")]
    (slow_row,) = [line for line in regressions.splitlines() if "test_slow" in line]
    slow = next(v for v in gate.verdicts if v.test == "t.py::test_slow")
    assert f"{slow.ratio:.2f}x" == "2.00x" and "| 2.00x " in slow_row
    assert f"[{slow.low:.2f}x, {slow.high:.2f}x]" in slow_row and "fails the gate" in slow_row
    assert "| 1 ms " in slow_row and "| 2.01 ms " in slow_row
    inconclusive = text[text.index("### Inconclusive") : text.index("### New")]
    assert "only slowdowns above" in inconclusive and "could be detected" in inconclusive
    assert "hardware differs: baseline H100, now H200" in text
    assert "| cpu " in text and "EPYC 7763" in text and "EPYC 9654" in text
    assert "0.100 → 0.600" in text


def test_unchanged_benchmarks_are_folded(compared: tuple[GateReport, dict[str, Any]]) -> None:
    gate, new = compared
    text = render_markdown(gate, new["results"], new["machines"])
    start, end = text.index("<details><summary>2 unchanged</summary>"), text.index("</details>")
    folded, before = text[start:end], text[:start]
    assert "`t.py::test_same`" in folded and "`t.py::test_parity`" in folded
    assert "test_same" not in before  # listed nowhere above the fold


def test_empty_sections_are_left_out_and_a_clean_run_says_so() -> None:
    base, _ = documents()
    gate = compare_documents(base, base, CONFIG, "baseline.json")
    text = render_markdown(gate, base["results"], base["machines"])
    assert text.splitlines()[0] == "## pytest-accel: ✅ no regression"
    for absent in (
        "### Regressions",
        "### Improvements",
        "### New",
        "### Missing",
        "### Machine differences",
    ):
        assert absent not in text
    report_only = compare_documents(base, base, GateConfig(run_noise=0.01), "baseline.json")
    first = render_markdown(report_only, base["results"], base["machines"]).splitlines()[0]
    assert first == "## pytest-accel: \u2139\ufe0f report only"


def test_markdown_of_a_duet_names_its_rounds() -> None:
    base, new = documents()
    gate = compare_rounds([base] * 3, [new] * 3, CONFIG, "main")
    text = render_markdown(gate, new["results"], new["machines"])
    assert "duet (3 paired rounds" in text and "`main`" in text


def test_markdown_without_a_gate_lists_devices_and_every_result() -> None:
    results = [
        result("t.py::test_a", STEADY, is_reference=True, headroom=None),
        result("t.py::test_a", STEADY, device="cuda:0", hardware="NVIDIA H200", headroom=1.5, passed=False),
        result("t.py::test_b", None),
    ]
    text = render_markdown(None, results, {"m-a": {"cpu": "EPYC"}})
    assert text.splitlines()[0] == "## pytest-accel results"
    assert "- numpy 2.0 cpu: EPYC" in text and "- numpy 2.0 cuda:0: NVIDIA H200" in text
    rows = [line for line in text.splitlines() if line.startswith("| `t.py::")]
    assert len(rows) == 2  # devices side by side: test_a's cpu and cuda:0 results share one row
    assert "FAIL 1.5" in rows[0] and "FAILED" in rows[0] and "test_b" in rows[1]
    assert "<details>" not in text  # short tables stay open


def test_long_result_tables_are_folded() -> None:
    results = [result(f"t.py::test_{i:02d}", STEADY) for i in range(31)]
    text = render_markdown(None, results, {})
    assert "<details><summary>31 result rows</summary>" in text
    start = text.index("<details>")
    assert "`t.py::test_00`" in text[start : text.index("</details>")]


def test_pipes_in_cell_text_are_escaped() -> None:
    text = render_markdown(None, [result("t.py::test_x[a|b]", STEADY)], {})
    (row,) = [line for line in text.splitlines() if "test_x" in line]
    assert "a\\|b" in row
    unescaped = row.replace("\\|", "")
    assert unescaped.count("|") == 6  # five columns: the pipe in the id does not open a sixth


# -- JSON ----------------------------------------------------------------------------------------------


def test_json_report_is_strict_json_with_the_same_verdicts(
    compared: tuple[GateReport, dict[str, Any]],
) -> None:
    gate, new = compared
    report = build_json_report(gate, new["results"], new["machines"])
    loaded = json.loads(json.dumps(report, allow_nan=False))
    assert loaded == report
    assert loaded["format"] == "pytest-accel-report" and loaded["version"] == 1
    assert [(v["test"], v["verdict"]) for v in loaded["gate"]["verdicts"]] == [
        (v.test, v.verdict) for v in gate.verdicts
    ]
    assert loaded["gate"]["failed"] is True and loaded["machines"] == new["machines"]
    row = next(r for r in loaded["results"] if r["test"] == "t.py::test_parity")
    assert row["worst_headroom"] == 0.6 and row["benches"][0]["samples_count"] == len(STEADY)
    compact = {"name", "median_s", "iqr_s", "samples_count", "stop_reason", "peak_bytes", "recompiles"}
    assert set(row["benches"][0]) == compact


def test_json_report_turns_infinite_values_into_null() -> None:
    """One sample each: the interval is unbounded, which JSON cannot say."""
    base = assemble_document({"m": {}}, {}, [result("t.py::test_one", [1e-3])], "m")
    new = assemble_document({"m": {}}, {}, [result("t.py::test_one", [1e-3], headroom=float("inf"))], "m")
    gate = compare_documents(base, new, CONFIG, "b")
    assert gate.verdicts[0].high == float("inf")
    report = build_json_report(gate, new["results"], new["machines"])
    json.dumps(report, allow_nan=False)
    assert report["gate"]["verdicts"][0]["high"] is None
    assert build_json_report(None, [], {})["gate"] is None


# -- files ---------------------------------------------------------------------------------------------


def test_write_reports_picks_the_format_by_suffix(
    compared: tuple[GateReport, dict[str, Any]], tmp_path: Path
) -> None:
    gate, new = compared
    md, js = tmp_path / "report.md", tmp_path / "report.JSON"
    notes, ok = write_reports([md, js], gate, new["results"], new["machines"])
    assert ok and notes == [
        f"accel: markdown report written to {md}",
        f"accel: JSON report written to {js}",
    ]
    assert md.read_text(encoding="utf-8") == render_markdown(gate, new["results"], new["machines"])
    assert json.loads(js.read_text())["format"] == "pytest-accel-report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.JSON", "report.md"]  # no temporary left


def test_an_unknown_suffix_is_rejected_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"report\.txt.*\.md.*\.json"):
        write_reports([tmp_path / "report.md", tmp_path / "report.txt"], None, [], {})
    assert list(tmp_path.iterdir()) == []


def test_a_report_that_cannot_be_written_is_a_note(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    bad, good = blocker / "report.md", tmp_path / "report.json"
    notes, ok = write_reports([bad, good], None, [result("t.py::test_a", STEADY)], {})
    assert not ok
    assert notes[0].startswith(f"accel: markdown report NOT written to {bad}: ")
    assert notes[1] == f"accel: JSON report written to {good}" and good.exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_folder_is_a_note(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        notes, ok = write_reports([folder / "report.md"], None, [], {})
    finally:
        folder.chmod(0o700)
    assert not ok and "NOT written" in notes[0]


def test_check_report_path(tmp_path: Path) -> None:
    check_report_path(tmp_path / "report.md")
    check_report_path(tmp_path / "report.json")
    with pytest.raises(ReportError, match=r"report\.txt.*unknown report format"):
        check_report_path(tmp_path / "report.txt")
    with pytest.raises(ReportError, match="that is a folder"):
        check_report_path(tmp_path)
    with pytest.raises(ReportError, match="does not exist; create it first"):
        check_report_path(tmp_path / "missing" / "report.md")


def test_step_summary_is_appended(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    environ = {"GITHUB_STEP_SUMMARY": str(summary)}
    first = append_step_summary("## one", environ)
    append_step_summary("## two", environ)
    assert summary.read_text(encoding="utf-8") == "## one\n## two\n"
    assert first is not None and str(summary) in first
    assert append_step_summary("## three", {}) is None
    failed = append_step_summary("## four", {"GITHUB_STEP_SUMMARY": str(tmp_path)})  # a folder
    assert failed is not None and "could not append" in failed


# -- terminal ------------------------------------------------------------------------------------------


def test_gate_section_rows_follow_the_verdicts(compared: tuple[GateReport, dict[str, Any]]) -> None:
    gate, _ = compared
    lines = render_gate_section(gate).splitlines()
    assert lines[0].split()[:4] == ["test", "device", "dtype", "bench"] and "verdict" in lines[0]
    rows = lines[2 : 2 + len(gate.verdicts)]
    assert [row.split()[0] for row in rows] == [v.test for v in gate.verdicts]
    slow = rows[0]
    assert "numpy cpu" in slow and re.search(r"2\.00x \[1\.9\d, 2\.0\d\]", slow) and "SLOWER (gate)" in slow
    assert "1 ms" in slow and "2.01 ms" in slow
    noisy = next(row for row in rows if "test_noisy" in row)
    assert "inconclusive" in noisy and "could be detected" in noisy


def test_gate_section_ends_with_the_gate_verdict(compared: tuple[GateReport, dict[str, Any]]) -> None:
    gate, _ = compared
    lines = render_gate_section(gate).splitlines()
    assert "machine differences: cpu: EPYC 7763 -> EPYC 9654" in lines
    assert any("t.py::test_parity" in line and "0.10 -> 0.60" in line for line in lines)
    assert lines[-2].startswith("gate mode: compare against baseline.json")
    assert "threshold 10% slower" in lines[-2] and "family-wise false-alarm rate 5%" in lines[-2]
    assert lines[-1] == f"accel gate: FAILED - {gate.reason}"


def test_gate_section_passed_and_report_only() -> None:
    base, _ = documents()
    passed = render_gate_section(compare_documents(base, base, CONFIG, "b")).splitlines()
    assert passed[-1].startswith("accel gate: passed - ") and "SLOWER" not in "\n".join(passed)
    assert not any(line.startswith("machine differences") for line in passed)
    report = render_gate_section(compare_documents(base, base, GateConfig(run_noise=0.01), "b"))
    assert report.splitlines()[-1].startswith("accel gate: report only - ")
    assert "(not gating)" in report.splitlines()[-2]


def test_long_test_ids_are_shortened_in_the_middle() -> None:
    """A test id first loses its file's folders, then its file, and only then its middle, so that the
    function's name stays readable (on einops' suite 'test_ops.p…mperatives' named nothing)."""
    long_id = "tests/" + "deep/" * 12 + "test_ops.py::test_attention"
    short = shorten(long_id, MAX_TEST_ID)
    assert short == "test_ops.py::test_attention"
    assert shorten(long_id, 20) == "test_attention"
    longer = "tests/x/test_ops.py::test_" + "attention_" * 10
    cut = shorten(longer, 40)
    assert len(cut) == 40 and "…" in cut and cut.startswith("test_attention_") and cut.endswith("attention_")
    assert shorten("t.py::test_a", MAX_TEST_ID) == "t.py::test_a"
    base = assemble_document({"m": {}}, {}, [result(long_id, STEADY)], "m")
    section = render_gate_section(compare_documents(base, base, CONFIG, "b"))
    assert short in section and long_id not in section


def test_gating_regressions_come_first() -> None:
    """By ratio the 3x slowdown leads, but only the 2x one gates (its marker), so it is listed first."""
    marked = dict(result("t.py::test_marked", STEADY), fail_slower=0.05)
    base = assemble_document({"m": {}}, {}, [result("t.py::test_free", STEADY), marked], "m")
    new_marked = dict(result("t.py::test_marked", [2 * s for s in STEADY]), fail_slower=0.05)
    new = assemble_document(
        {"m": {}}, {}, [result("t.py::test_free", [3 * s for s in STEADY]), new_marked], "m"
    )
    gate = compare_documents(base, new, GateConfig(run_noise=0.01), "b")
    assert [v.test for v in gate.verdicts] == ["t.py::test_free", "t.py::test_marked"]
    text = render_markdown(gate, new["results"], new["machines"])
    assert text.splitlines()[0] == "## pytest-accel: ❌ slower than baseline"
    assert text.index("test_marked") < text.index("test_free")
    assert "some tests set their own: 5%" in text
    lines = render_gate_section(gate).splitlines()
    assert "SLOWER (gate)" in lines[3] and "slower" in lines[2] and "(gate)" not in lines[2]
