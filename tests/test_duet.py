"""``python -m pytest_accel duet``: a real git repository, a real slowdown, real pytest runs.

The library lives in ``src/`` and the tests in ``tests/``, so a pass also shows that each side imports
its own code (through PYTHONPATH) and that a duet started in a subfolder runs there on both sides.
Each pytest run takes about a second and a half; the rounds are kept few.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

LIBRARY = """\
import numpy as np

REPS = {reps}


def work(x):
    for _ in range(REPS):
        y = np.sort(x)
    return y
"""

TEST_FILE = """\
import pytest

import mylib


@pytest.mark.accel(framework="numpy")
def test_it(accel_device):
    accel_device.bench(mylib.work, accel_device.randn(20000))
"""

FAST_PYTEST = ["-q", "--accel-bench-budget=0.05"]


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout


def set_reps(repo: Path, reps: int) -> None:
    (repo / "src" / "mylib.py").write_text(LIBRARY.format(reps=reps))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_project(tmp_path)


def make_project(tmp_path: Path) -> Path:
    """A committed project whose benchmark's cost is set by ``REPS`` in src/mylib.py."""
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "tests").mkdir()
    set_reps(root, 4)
    (root / "tests" / "test_mylib.py").write_text(TEST_FILE)
    (root / "pytest.ini").write_text("[pytest]\n")
    (root / ".gitignore").write_text("__pycache__/\n")  # as any project has: running tests writes them
    git(root, "init", "-q")
    git(root, "config", "user.name", "Duet Test")
    git(root, "config", "user.email", "duet@example.invalid")
    git(root, "config", "commit.gpgsign", "false")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    return root


def duet(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTEST_ACCEL", "GITHUB_STEP_SUMMARY")
    }  # PYTEST_ADDOPTS is the one tests/conftest.py sets for every inner session
    return subprocess.run(
        [sys.executable, "-m", "pytest_accel", "duet", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def worktrees(repo: Path) -> list[str]:
    return [
        line
        for line in git(repo, "worktree", "list", "--porcelain").splitlines()
        if line.startswith("worktree ")
    ]


def test_unchanged_code_passes_and_leaves_no_worktree(repo: Path, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    done = duet(
        repo,
        "HEAD",
        "--rounds",
        "4",
        "--max-rounds",
        "4",
        "--fail-slower=10%",
        "--report",
        str(report),
        "--",
        *FAST_PYTEST,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    gate = json.loads(report.read_text())["gate"]
    assert gate["mode"] == "duet" and 2 <= gate["rounds"] <= 4 and gate["failed"] is False
    assert gate["baseline"].startswith("HEAD (")
    rounds_done = [line for line in done.stdout.splitlines() if line.startswith("duet: round ")]
    assert (
        rounds_done[0].split()[2] == "1/4" and "1 test(s) bench and go on in short bursts" in rounds_done[0]
    )
    # The report says what the duet cost against a plain run of the same tests.
    assert gate["seconds"] > gate["plain_run_seconds"] > 0
    assert "a plain run of these tests about" in " ".join(done.stdout.split())
    assert len(worktrees(repo)) == 1
    assert git(repo, "status", "--porcelain") == ""


def test_a_3x_slower_working_tree_fails_naming_the_test(repo: Path, tmp_path: Path) -> None:
    set_reps(repo, 12)
    report = tmp_path / "r.json"
    done = duet(
        repo, "HEAD", "--rounds", "4", "--fail-slower=10%", "--report", str(report), "--", *FAST_PYTEST
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "test_it" in done.stdout
    (verdict,) = json.loads(report.read_text())["gate"]["verdicts"]
    assert verdict["verdict"] == "slower" and verdict["ratio"] > 2
    assert "TESTS FAILED" not in done.stdout
    assert len(worktrees(repo)) == 1


def test_an_unknown_ref_exits_4(repo: Path) -> None:
    done = duet(repo, "no-such-branch", "--rounds", "2")
    assert done.returncode == 4
    assert "no-such-branch" in done.stderr and "Traceback" not in done.stderr


def test_outside_a_git_work_tree_exits_4(tmp_path: Path) -> None:
    done = duet(tmp_path, "HEAD")
    assert done.returncode == 4
    assert "git work tree" in done.stderr and "Traceback" not in done.stderr


def test_too_few_rounds_exit_4(repo: Path) -> None:
    done = duet(repo, "HEAD", "--rounds", "1")
    assert done.returncode == 4 and "--rounds" in done.stderr


def test_failing_tests_exit_1_apart_from_the_verdict(repo: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs.txt"
    with (repo / "tests" / "test_mylib.py").open("a") as stream:
        stream.write(
            f"\n\ndef test_broken():\n    open({str(runs)!r}, 'a').write('run\\n')\n    assert 1 + 1 == 3\n"
        )
    report = tmp_path / "r.json"
    done = duet(
        repo / "tests",
        "HEAD",
        "--rounds",
        "2",
        "--report",
        str(report),
        "--",
        *FAST_PYTEST,
    )
    # No threshold, so nothing can gate: the exit code 1 comes from the failing test alone.
    assert done.returncode == 1, done.stdout + done.stderr
    assert "TESTS FAILED on the new side" in done.stdout and "test_broken" in done.stdout
    assert "base side" not in done.stdout
    assert json.loads(report.read_text())["gate"]["failed"] is False
    # A test that does not bench runs once (round 1, on the one side that has it), not in every round.
    assert runs.read_text().splitlines() == ["run"]
    assert len(worktrees(repo)) == 1


def test_a_run_that_collects_nothing_stops_the_duet(repo: Path) -> None:
    done = duet(repo, "HEAD", "--rounds", "2", "--", "-q", "-k", "no_such_test")
    assert done.returncode == 4
    assert "collected no tests" in done.stderr and "after '--'" in done.stderr
    assert len(worktrees(repo)) == 1


def test_the_order_alternates_item_by_item_and_round_by_round() -> None:
    from pytest_accel.duet.driver import pair_order

    assert [pair_order(0, i) for i in range(3)] == [("base", "new"), ("new", "base"), ("base", "new")]
    assert [pair_order(1, i) for i in range(3)] == [("new", "base"), ("base", "new"), ("new", "base")]
    firsts = [pair_order(r, i)[0] for r in range(4) for i in range(3)]
    assert firsts.count("base") == firsts.count("new")


NOISY_TEST = """
import os
import time

import pytest

RUNS = []

@pytest.mark.accel(framework="numpy")
def test_noisy(accel_device):
    # The two sides' costs swap from round to round (the base side runs in duet's temporary worktree),
    # so the paired differences alternate in sign: no verdict after two rounds, nor after five.
    RUNS.append(1)
    base = "pytest-accel-duet-" in os.getcwd()
    slow = (len(RUNS) + base) % 2 == 1
    accel_device.bench(time.sleep, 0.003 if slow else 0.001)
"""


def test_tests_not_yet_decided_get_more_rounds(repo: Path, tmp_path: Path) -> None:
    (repo / "tests" / "test_noisy.py").write_text(NOISY_TEST)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "a noisy test")
    report = tmp_path / "r.json"
    done = duet(
        repo,
        "HEAD",
        "--rounds",
        "2",
        "--max-rounds",
        "5",
        "--report",
        str(report),
        "--",
        *FAST_PYTEST,
        "tests/test_noisy.py",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "duet: round 2/5 done" in done.stdout and "1 test(s) not yet decided" in done.stdout
    gate = json.loads(report.read_text())["gate"]
    assert gate["rounds"] == 5 and gate["budget_spent"] is False
    assert len(worktrees(repo)) == 1


def test_a_spent_budget_stops_the_rounds_and_leaves_the_verdict_open(repo: Path, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    done = duet(
        repo, "HEAD", "--budget", "0.01", "--fail-slower=10%", "--report", str(report), "--", *FAST_PYTEST
    )
    assert done.returncode == 0, done.stdout + done.stderr
    gate = json.loads(report.read_text())["gate"]
    assert gate["budget_spent"] is True and gate["rounds"] == 1
    (verdict,) = gate["verdicts"]
    assert verdict["verdict"] == "inconclusive"
    assert "--budget stopped the rounds" in " ".join(done.stdout.split())


@pytest.mark.parametrize("value", ["0", "-1"])
def test_a_budget_that_is_no_time_is_a_usage_error(repo: Path, value: str) -> None:
    done = duet(repo, "HEAD", f"--budget={value}")
    assert done.returncode == 4 and "--budget" in done.stderr and "Traceback" not in done.stderr


def test_looks_grow_and_end_at_the_last_round() -> None:
    from pytest_accel.duet.rounds import look_rounds

    assert look_rounds(8, 40) == [8, 12, 18, 27, 40]
    assert look_rounds(4, 4) == [4]
    assert look_rounds(2, 5) == [2, 3, 5]


def test_bursts_fill_the_burst_time_on_the_slower_side_with_the_base_batch() -> None:
    from pytest_accel.duet.rounds import BURST_S, MAX_BURST, Tally

    tally = Tally()
    fast = ["t", "numpy", "cpu", "float64", "fast"]
    slow = ["t", "numpy", "cpu", "float64", "slow"]
    base = {
        "benches": [
            {"key": fast, "batch": 20, "samples": [5e-5] * 9},
            {"key": slow, "batch": 1, "samples": [1.0]},
        ]
    }
    new = {
        "benches": [
            {"key": fast, "batch": 10, "samples": [1e-4] * 9},
            {"key": slow, "batch": 1, "samples": [2.0]},
        ]
    }
    tally.add("base", "t[numpy]", 0, base)
    tally.add("new", "t[numpy]", 0, new)
    plan = tally.bursts("t[numpy]")
    assert plan["slow"] == [1, 1]  # one call per sample and per side: the first call is the sample
    assert plan["fast"] == [20, min(MAX_BURST, round(BURST_S / (20 * 1e-4)))]
    assert tally.paired_rounds(tuple(fast)) == [0]


class _Clock:
    """A timer that says every call took 1 ms."""

    method = "fake"

    def wait_for_inputs(self, args: object, kwargs: object) -> None:
        pass

    def time_batch(self, call, batch: int) -> float:
        for _ in range(batch):
            call()
        return 1e-3 * batch


def test_a_burst_takes_its_samples_and_returns_the_first_result() -> None:
    from pytest_accel.duet.burst import Burst

    calls = []
    result, measured = Burst(batch=3, samples=4).burst(
        lambda x: calls.append(x) or len(calls), (7,), {}, _Clock(), "b"
    )
    assert result == 1 and len(calls) == 1 + 3 * 4
    assert measured.samples == [pytest.approx(1e-3)] * 4 and measured.stop_reason == "duet-burst"
    calls.clear()
    _, single = Burst(batch=1, samples=2).burst(lambda: calls.append(1), (), {}, _Clock(), "b")
    assert len(calls) == 2 and len(single.samples) == 2  # the first call is the first sample


def test_max_rounds_below_rounds_is_a_usage_error(repo: Path) -> None:
    done = duet(repo, "HEAD", "--rounds", "4", "--max-rounds", "3")
    assert done.returncode == 4 and "--max-rounds=3 is below --rounds=4" in done.stderr
