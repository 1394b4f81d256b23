"""pytest sessions in subprocesses (or session hosts) whose results several tests read: the expensive runs
happen once.

``pytester`` is function-scoped, so a module whose tests all look at the same run (a serial run and an
xdist run of one suite, say) would start it again for every test. A ``SharedProject`` is a folder with
the suite's files; ``run`` starts pytest there once per distinct command line and keeps the result.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import session_host

# What the sessions see: the CPU alone, 80 columns and no Hypothesis plugin (as tests/conftest.py gives
# pytester's), no colour, and none of the outer run's accel options.
CPU_ONLY = {
    "JAX_PLATFORMS": "cpu",
    "CUDA_VISIBLE_DEVICES": "",
    "PY_COLORS": "0",
    "COLUMNS": "80",
    "PYTEST_ADDOPTS": "-p no:hypothesispytest",
}
DROPPED = ("PYTEST_ACCEL", "GITHUB_STEP_SUMMARY", "PYTEST_XDIST_WORKER")


class SharedProject:
    """A folder of test files and the pytest runs made in it, each run once.

    ``hosted``: each run in a session host (tests/session_host.py), which keeps JAX imported from one
    session to the next, instead of a fresh subprocess; not for runs that need a fresh process (xdist's).
    """

    def __init__(self, path: Path, environment: dict[str, str] | None = None, hosted: bool = False) -> None:
        self.path = path
        self.environment = {**CPU_ONLY, **(environment or {})}
        self.hosted = hosted
        self._runs: dict[tuple[str, ...], pytest.RunResult] = {}

    def write(self, name: str, text: str) -> Path:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def run(self, *args: str) -> pytest.RunResult:
        """``python -m pytest ARGS`` in the folder, started only the first time these ARGS are asked for."""
        if args not in self._runs:
            self._runs[args] = self._start(args)
        return self._runs[args]

    def _start(self, args: tuple[str, ...]) -> pytest.RunResult:
        environment = {k: v for k, v in os.environ.items() if k not in DROPPED}
        environment.update(self.environment)
        started = time.perf_counter()
        if self.hosted:
            return self._start_hosted(args, environment, started)
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
            cwd=self.path,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        return pytest.RunResult(
            done.returncode,
            done.stdout.splitlines(),
            done.stderr.splitlines(),
            time.perf_counter() - started,
        )

    def _start_hosted(
        self, args: tuple[str, ...], environment: dict[str, str], started: float
    ) -> pytest.RunResult:
        """The run in this environment's session host, its output in files as a subprocess's would be."""
        stdout, stderr = self.path / "stdout", self.path / "stderr"
        host = session_host.host_for(environment)
        ret = host.run(self.path, ["-p", "no:cacheprovider", *args], environment, stdout, stderr)
        return pytest.RunResult(
            ret,
            stdout.read_text(encoding="utf-8", errors="replace").splitlines(),
            stderr.read_text(encoding="utf-8", errors="replace").splitlines(),
            time.perf_counter() - started,
        )
