"""Where the baseline comes from: several saved files as replicates, or the last runs of a branch in the
history database (``--accel-compare=a.json,b.json``, ``db:PATH``, ``db:PATH?last=K``). The parsing and
the history's choice of runs in-process; one shared project for the plugin's sessions."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from shared_sessions import SharedProject

from pytest_accel.frameworks.base import cpu_model, host_cpu_label
from pytest_accel.gate.sources import (
    DEFAULT_LAST,
    BaselineError,
    host_kinds,
    label,
    load_documents,
    parse_source,
)
from pytest_accel.history.record import add_document
from pytest_accel.results.file import assemble_document, machine_id

SUITE = """
import numpy as np
import pytest

@pytest.mark.accel(framework="numpy")
def test_sum(accel_device):
    x = accel_device.asarray(np.arange(20000, dtype=np.float64))
    accel_device.check(accel_device.bench(np.sum, x, name="sum"), name="total")
"""
BUDGET = ("--accel-bench-budget=0.02", "--accel-gate-budget=0.05")


def test_a_compare_value_names_files_or_a_history(tmp_path: Path) -> None:
    one = parse_source("base.json", tmp_path)
    assert one.files == (tmp_path / "base.json",) and one.history is None and str(one) == str(one.files[0])
    several = parse_source(" a.json, b.json,c.json ", tmp_path)
    assert several.files == tuple(tmp_path / name for name in ("a.json", "b.json", "c.json"))
    history = parse_source("db:runs/history.db", tmp_path)
    assert history.history == tmp_path / "runs/history.db" and history.last == DEFAULT_LAST
    assert history.paths == (tmp_path / "runs/history.db",)
    assert parse_source("db:h.db?last=12", tmp_path).last == 12
    assert label(several, None, "a.json", 3) == "a.json and 2 more"
    assert label(history, None, "h.db", 4) == "h.db (the last 4 run(s) of main)"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("db:", "names no database"),
        ("db:h.db?last=0", "last= takes"),
        ("db:h.db?last=x", "last= takes"),
        ("a.json,,b.json", "separated by commas"),
        ("", "give a results file"),
    ],
)
def test_a_bad_compare_value_says_what_to_write(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_source(text, tmp_path)


def _run(cpu: str, hardware: str, seconds: float) -> dict[str, Any]:
    fingerprint = {"cpu": cpu, "cpu_count": os.cpu_count(), "python": "3.12"}
    bench = {"name": "sum", "samples": [seconds] * 30, "median_s": seconds, "iqr_s": 0.0}
    row = {
        "nodeid": "t.py::test_sum[numpy-cpu-float64]",
        "test": "t.py::test_sum",
        "framework": "numpy",
        "framework_version": "2.0",
        "device": "cpu",
        "hardware": hardware,
        "dtype": "float64",
        "is_reference": True,
        "reference_device": "cpu",
        "outcome": "passed",
        "checks": [],
        "benches": [bench],
    }
    return assemble_document({machine_id(fingerprint): fingerprint}, {}, [row], machine_id(fingerprint))


def test_the_history_gives_the_last_runs_of_the_branch_on_this_host(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    here, elsewhere = (cpu_model(), host_cpu_label()), ("Other CPU", "Other CPU (64 cores)")
    for number in range(7):
        add_document(db, _run(*here, 1e-3 * (1 + number)), f"c{number}", "main", "test")
    add_document(db, _run(*elsewhere, 5e-3), "c7", "main", "test")  # the newest, on another machine kind
    add_document(db, _run(*here, 9e-3), "f1", "feature", "test")
    documents = load_documents(parse_source("db:h.db?last=3", tmp_path), None)
    medians = [doc["results"][0]["benches"][0]["median_s"] for doc in documents]
    assert medians == pytest.approx([5e-3, 6e-3, 7e-3])  # oldest first, this host's only, main only
    assert len(load_documents(parse_source("db:h.db", tmp_path), "main")) == DEFAULT_LAST
    assert host_kinds(
        {host_cpu_label(), "Other CPU (64 cores)", f"H200, host {cpu_model()} x{os.cpu_count()}"}
    ) == {
        host_cpu_label(),
        f"H200, host {cpu_model()} x{os.cpu_count()}",
    }
    with pytest.raises(BaselineError, match=r"no runs of branch 'dev'.*main \(8\)"):
        load_documents(parse_source("db:h.db", tmp_path), "dev")
    foreign = tmp_path / "foreign.db"
    add_document(foreign, _run(*elsewhere, 1e-3), "c0", "main", "test")
    with pytest.raises(BaselineError, match=r"none on this machine's kinds.*Other CPU"):
        load_documents(parse_source("db:foreign.db", tmp_path), "main")
    with pytest.raises(BaselineError, match="does not exist"):
        load_documents(parse_source("db:missing.db", tmp_path), "main")


# -- the plugin's sessions --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> SharedProject:
    project = SharedProject(tmp_path_factory.mktemp("sources"), hosted=True)
    project.write("test_suite.py", SUITE)
    for name in ("a", "b"):  # two runs of the same code: saved, and recorded in the history of main
        history = ("--accel-history=h.db", "--accel-history-branch=main", f"--accel-history-commit={name}")
        assert project.run(*BUDGET, f"--accel-save={name}.json", *history).ret == 0
    return project


def _said(result: pytest.RunResult) -> str:
    return " ".join("\n".join(result.outlines).split())  # the gate's prose wraps at 80 columns


def test_two_saved_files_are_the_baseline_s_replicates(project: SharedProject) -> None:
    result = project.run(*BUDGET, "--accel-compare=a.json,b.json")
    said = _said(result)
    assert result.ret == 0, said
    assert "compare against a.json and 1 more (2 baseline runs" in said
    assert "accel gate: report only" in said


def test_the_history_s_last_runs_are_the_baseline(project: SharedProject) -> None:
    result = project.run(
        *BUDGET, "--accel-compare=db:h.db", "--accel-report=gate.md", "--accel-report=gate.json"
    )
    said = _said(result)
    assert result.ret == 0, said
    assert "compare against h.db (the last 2 run(s) of main) (2 baseline runs" in said
    # the report cites each benchmark's recent runs of the base branch beside its verdict (issue 17.3)
    markdown = (project.path / "gate.md").read_text()
    assert "recent runs of the base branch" in markdown
    (verdict, *_) = json.loads((project.path / "gate.json").read_text())["gate"]["verdicts"]
    assert re.fullmatch(r"[▁▂▃▄▅▆▇█]{2} \S+ \S+, 2 run\(s\)", verdict["recent"]), verdict["recent"]
    assert verdict["recent"] in markdown
    wrong = project.run(*BUDGET, "--accel-compare=db:h.db", "--accel-history-branch=dev")
    assert wrong.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        f"--accel-compare=db:{project.path / 'h.db'}?last=5: history" in wrong.stderr.str()
        and "no runs of branch 'dev'" in wrong.stderr.str()
    )
