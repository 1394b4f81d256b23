"""The memory gate wired into compare mode, reports and the gate's verdict; and benches that recompiled
during timing, which do not gate on time unless asked. One plugin session pair (the measurement suite's
80 MB bench, unchanged and doubled), the rest in-process on hand-made documents."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from measurement_suite import MEMORY_ONLY, measurement_project
from shared_sessions import SharedProject

from pytest_accel.gate import stats
from pytest_accel.gate.comparison import GateConfig, compare_documents, compare_rounds
from pytest_accel.gate.memory import GREW, UNCHANGED
from pytest_accel.results.file import assemble_document
from pytest_accel.summary.gate_section import render_gate_section
from pytest_accel.summary.json_report import build_json_report
from pytest_accel.summary.markdown import render_markdown

MB = 1_000_000
STEADY = [1e-3 * (1 + 0.002 * (i % 5)) for i in range(40)]
MEMORY_GATE = (
    "--accel-compare=again.json",
    "--accel-fail-memory=20%",
    "--accel-report=m.md",
    "--accel-report=m.json",
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> SharedProject:
    return measurement_project(tmp_path_factory)


def test_compare_mode_fails_a_doubled_peak_and_passes_unchanged_code(project: SharedProject) -> None:
    saved = project.run(*MEMORY_ONLY, "--accel-save=again.json")  # the same run test_memory.py makes
    assert saved.ret == 0
    unchanged = project.run(*MEMORY_ONLY, *MEMORY_GATE)
    text = "\n".join(unchanged.outlines)
    assert unchanged.ret == 0, text
    assert "memory gate (fails above 20% more peak memory)" in text and "unchanged: 3 benchmark(s)" in text
    doubled = project.run(*MEMORY_ONLY, "--factor=2", *MEMORY_GATE)
    text = "\n".join(doubled.outlines)
    assert doubled.ret == 1, text
    assert "3 passed" in text  # the tests pass: the gate fails the run, worded apart
    final = " ".join(text[text.index("accel gate: FAILED") :].split())  # wrapped at 80 columns
    assert "3 benchmark(s) use more than 20% more peak memory" in final and "test_alloc" in final
    assert text.count("GREW (gate)") == 3, text
    report = (project.path / "m.md").read_text()
    assert (
        "more memory than baseline" in report
        and "### Memory" in report
        and "**grew: fails the gate**" in report
    )
    gate = json.loads((project.path / "m.json").read_text())["gate"]
    assert gate["failed"] and gate["memory_failed"] and gate["fail_memory"] == 0.2
    assert [v["verdict"] for v in gate["memory_verdicts"]] == [GREW] * 3


# -- in-process: hand-made documents --------------------------------------------------------------------


def _result(test: str, samples: list[float], peak: int | None = None, recompiles: int | None = 0) -> dict:
    bench = {
        "name": "op",
        "samples": samples,
        "peak_bytes": peak,
        "memory_note": "",
        "recompiles": recompiles,
    }
    return {
        "nodeid": f"{test}[numpy-cpu-float32]",
        "test": test,
        "framework": "numpy",
        "framework_version": "2.0",
        "is_reference": True,
        "reference_device": "cpu",
        "device": "cpu",
        "hardware": "EPYC",
        "dtype": "float32",
        "outcome": "passed",
        "checks": [],
        "benches": [bench],
    }


def _document(*results: dict[str, Any]) -> dict[str, Any]:
    return assemble_document({"m": {"cpu": "EPYC"}}, {}, list(results), "m")


def test_the_gate_report_carries_memory_verdicts_to_every_report() -> None:
    base = _document(_result("t.py::test_big", STEADY, 80 * MB), _result("t.py::test_small", STEADY, 1 * MB))
    new = _document(_result("t.py::test_big", STEADY, 160 * MB), _result("t.py::test_small", STEADY, 1 * MB))
    gate = compare_documents(base, new, GateConfig(fail_memory=0.2), "base.json")
    assert [v.verdict for v in gate.memory] == [GREW, UNCHANGED]  # what grew first
    assert gate.failed and gate.memory_failed and not gate.failures and gate.gating
    assert gate.reason.startswith("memory: 1 benchmark(s) use more than 20% more peak memory")
    assert "time does not gate" in gate.reason
    section = render_gate_section(gate)
    assert "GREW (gate) t.py::test_big [numpy cpu float32] op: 80 MB -> 160 MB (2.00x)" in section
    assert section.splitlines()[-1].startswith("accel gate: FAILED - memory: 1 benchmark(s)")
    markdown = render_markdown(gate, new["results"], new["machines"])
    assert "more memory than baseline" in markdown and "### Memory" in markdown
    assert "1 unchanged" in markdown.split("### Memory")[1]
    report = build_json_report(gate, new["results"], new["machines"])["gate"]
    assert report["memory_failed"] and report["memory_verdicts"][0]["ratio"] == 2.0
    same = compare_documents(base, base, GateConfig(fail_memory=0.2), "base.json")
    assert not same.failed and "memory gate" in render_gate_section(same)
    assert "memory" not in compare_documents(base, new, GateConfig(), "b").reason  # not asked: no gate


def test_a_duet_gates_memory_over_its_rounds_and_its_report_says_what_it_took() -> None:
    """Round 1 measures memory, later bursts do not (None): the measured peaks decide."""
    first_base = _document(_result("t.py::test_big", STEADY, 80 * MB))
    first_new = _document(_result("t.py::test_big", STEADY, 160 * MB))
    burst = _document(_result("t.py::test_big", STEADY, None))
    config = GateConfig(fail_memory=0.2)
    gate = compare_rounds([first_base, burst, burst], [first_new, burst, burst], config, "main")
    assert [v.verdict for v in gate.memory] == [GREW] and gate.failed
    gate.seconds, gate.plain_run_s = 41.0, 17.0
    markdown = render_markdown(gate, first_new["results"], first_new["machines"])
    assert (
        "duet (3 paired rounds of the baseline and the new code in one job, 41 s, a plain run of these "
        in markdown
    )
    assert "about 17 s (2.4x))" in markdown


def test_a_bench_that_recompiled_does_not_gate_on_time_unless_asked() -> None:
    base = _document(_result("t.py::test_jit", STEADY), _result("t.py::test_plain", STEADY))
    slower = [3 * s for s in STEADY]
    new = _document(_result("t.py::test_jit", slower, recompiles=7), _result("t.py::test_plain", slower))
    config = GateConfig(fail_slower=0.10, run_noise=0.01)
    gate = compare_documents(base, new, config, "base.json")
    verdicts = {v.test: v for v in gate.verdicts}
    jit = verdicts["t.py::test_jit"]
    assert jit.verdict == stats.NOT_COMPARABLE and not jit.fails
    assert "compiled during its timed calls in this run" in jit.note and "--accel-gate-recompiles" in jit.note
    assert verdicts["t.py::test_plain"].verdict == stats.SLOWER  # the same slowdown, judged
    recompiled_base = copy.deepcopy(base)
    recompiled_base["results"][0]["benches"][0]["recompiles"] = 2
    both = compare_documents(recompiled_base, new, config, "base.json")
    assert "in the baseline and this run" in next(v.note for v in both.verdicts if v.test == "t.py::test_jit")
    asked = compare_documents(base, new, GateConfig(0.10, run_noise=0.01, gate_recompiles=True), "base.json")
    assert next(v for v in asked.verdicts if v.test == "t.py::test_jit").verdict == stats.SLOWER
