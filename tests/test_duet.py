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
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTEST_ACCEL", "GITHUB_STEP_SUMMARY")
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
    assert gate["mode"] == "duet" and gate["rounds"] == 4 and gate["failed"] is False
    assert gate["baseline"].startswith("HEAD (")
    rounds_done = [line for line in done.stdout.splitlines() if line.startswith("duet: round ")]
    assert [line.split()[2] for line in rounds_done] == ["1/4", "2/4", "3/4", "4/4"]
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
    with (repo / "tests" / "test_mylib.py").open("a") as stream:
        stream.write("\n\ndef test_broken():\n    assert 1 + 1 == 3\n")
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


def test_tests_not_yet_shown_unchanged_get_more_rounds(repo: Path, tmp_path: Path) -> None:
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
    assert "1 test(s) not yet shown unchanged: rounds 3-5" in done.stdout
    gate = json.loads(report.read_text())["gate"]
    assert gate["rounds"] == 5
    assert len(worktrees(repo)) == 1


def test_max_rounds_below_rounds_is_a_usage_error(repo: Path) -> None:
    done = duet(repo, "HEAD", "--rounds", "4", "--max-rounds", "3")
    assert done.returncode == 4 and "--max-rounds=3 is below --rounds=4" in done.stderr
