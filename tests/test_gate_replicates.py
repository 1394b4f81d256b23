"""Replicates: several runs of the baseline, from which each benchmark's run-to-run noise is learned.

The noise model is that of per-call timings of an H200 (``h200_document`` in benchmarks/noise_model.py,
which bench_gate.py measures too). Everything is generated with numpy and judged by
``compare_documents``, as ``compare`` and ``--accel-compare`` judge it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from noise_model import H200_DRIFTING, H200_STEADY, h200_document  # benchmarks/noise_model.py

from pytest_accel.gate import replicate_files, replicates, stats
from pytest_accel.gate.baseline import Baseline, bench_runs
from pytest_accel.gate.comparison import GateConfig, compare_documents
from pytest_accel.results.file import load_results

STEADY, DRIFTING = H200_STEADY, H200_DRIFTING
_document = h200_document


def _slower(gate) -> set[str]:
    return {v.bench for v in gate.verdicts if v.verdict == stats.SLOWER}


def test_three_replicates_catch_15_percent_and_rarely_blame_the_drifting_kernel() -> None:
    rng = np.random.default_rng(16)
    config = GateConfig(fail_slower=0.10)
    caught, false_alarms, blamed, trials = 0, 0, 0, 48
    for trial in range(trials):
        baseline = [_document(rng) for _ in range(3)]
        slowed = STEADY[trial % len(STEADY)]
        gate = compare_documents(baseline, _document(rng, slowed, 1.15), config, "base")
        caught += slowed in _slower(gate)
        unchanged = compare_documents(baseline, _document(rng), config, "base")
        false_alarms += unchanged.failed
        blamed += (DRIFTING in _slower(gate)) + (DRIFTING in _slower(unchanged))
    # Issue 16: at least 11 of 12 caught, at most 1 of 10 unchanged runs failing; the drifting kernel is
    # tested at 1% like every benchmark of five (1.4% of 800 comparisons in a longer simulation: 4 of 96
    # allows for that).
    assert caught >= 44, f"15% caught in {caught} of {trials}"
    assert false_alarms <= 4, f"unchanged code failed {false_alarms} of {trials} times"
    assert blamed <= 4, f"the drifting kernel was called slower in {blamed} of {2 * trials} comparisons"


def test_the_drifting_kernel_is_learned_noisy_and_the_steady_ones_tight() -> None:
    rng = np.random.default_rng(3)
    gate = compare_documents([_document(rng) for _ in range(3)], _document(rng), GateConfig(0.10), "b")
    noise = {v.bench: v.run_noise for v in gate.verdicts}
    assert all(noise[name] is not None and noise[name] < 0.05 for name in STEADY), noise
    assert noise[DRIFTING] > 3 * max(noise[name] for name in STEADY), noise
    assert {v.replicates for v in gate.verdicts} == {3} and gate.replicates == 3


def test_one_baseline_run_keeps_the_configured_noise() -> None:
    rng = np.random.default_rng(4)
    gate = compare_documents(_document(rng), _document(rng), GateConfig(0.10, run_noise=0.2), "b")
    assert gate.replicates == 1 and all(v.run_noise is None for v in gate.verdicts)
    assert gate.failed is False


def test_few_replicates_that_happen_to_agree_claim_no_more_than_their_neighbours() -> None:
    """Pooling raises a benchmark's spread to the typical one of its device, never lowers it."""

    def level(log: float) -> stats.Level:
        return stats.Level(log, 1e-6, 9.0)

    new = level(0.0)
    measured = {
        ("t", "torch", "cuda:0", "float32", name): replicates.ReplicateLevels([level(a), level(b)], new)
        for name, (a, b) in {
            "lucky": (0.0, 0.0001),
            "x": (0.0, 0.02),
            "y": (0.0, 0.03),
            "z": (0.0, 0.5),
        }.items()
    }
    noises = {key[4]: value for key, value in replicates.learned_noise(measured).items()}
    assert noises["lucky"].variance > 10 * measured[("t", "torch", "cuda:0", "float32", "lucky")].spread
    assert noises["lucky"].dof == 1 + 2  # its own degree of freedom and those of its steady neighbours
    # z drifts by itself: its own spread (made median-unbiased), with its one degree of freedom
    assert noises["z"].variance == pytest.approx(0.125 * stats.median_unbiased(1)) and noises["z"].dof == 1


def test_a_list_of_documents_is_a_baseline_of_replicates(tmp_path: Path) -> None:
    """What a history of runs hands the gate: loaded documents, kept apart by their replicate index."""
    rng = np.random.default_rng(5)
    runs = [_document(rng) for _ in range(3)]
    baseline = Baseline.from_documents(tmp_path / "history", runs)
    assert [len(part["results"]) for part in replicate_files.expand(baseline.document)] == [5, 5, 5]
    assert baseline.runs == bench_runs(runs[-1])
    gate = compare_documents(baseline.document, _document(rng), GateConfig(0.10), "history")
    assert gate.replicates == 3


def _cli(*args: str | Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pytest_accel", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_merge_replicates_then_compare_learns_the_noise(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    paths = []
    for number in range(3):
        paths.append(tmp_path / f"main{number}.json")
        paths[-1].write_text(json.dumps(_document(rng)))
    new = tmp_path / "pr.json"
    new.write_text(json.dumps(_document(rng, "conv", 1.5)))
    done = _cli("merge", "--replicates", *paths, "-o", tmp_path / "base.json")
    assert done.returncode == 0, done.stderr
    assert "kept 3 runs as replicates (15 results)" in done.stdout
    merged = load_results(tmp_path / "base.json")
    assert sorted({r["replicate"] for r in merged["results"]}) == [0, 1, 2]
    report = tmp_path / "gate.json"
    for baseline in ([tmp_path / "base.json"], paths):  # one replicates file, or the files themselves
        done = _cli("compare", *baseline, new, "--fail-slower=10%", "--report", report)
        assert done.returncode == 1, done.stdout + done.stderr
        gate = json.loads(report.read_text())["gate"]
        assert gate["replicates"] == 3
        assert [v["bench"] for v in gate["verdicts"] if v["verdict"] == "slower"] == ["conv"]
        assert "learned from them" in " ".join(done.stdout.split())


def test_merge_replicates_refuses_a_run_with_a_test_twice(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    doubled = _document(rng)
    doubled["results"] = doubled["results"] * 2
    (tmp_path / "a.json").write_text(json.dumps(doubled))
    done = _cli("merge", "--replicates", tmp_path / "a.json", "-o", tmp_path / "out.json")
    assert done.returncode == 4 and "appears twice" in done.stderr and "Traceback" not in done.stderr
