"""What adopting an existing suite costs: the suite's own run against the same suite adopted.

A generated suite of a small library: ``TESTS`` test functions x ``dtype`` parameters (2,000 items by
default), each computing a few numpy operations and ending in ``numpy.testing.assert_allclose`` against a
reference implementation, with the ``device``/``dtype`` fixtures of its own conftest. Run three ways,
alternating, in fresh processes:

- ``own``: the suite as it is, the plugin turned off (``-p no:accel``);
- ``adopted``: its conftest's two fixtures taken from ``accel_device`` (``accel_fixture``), nothing else;
- ``adopted+capture``: the same with ``--accel-capture-asserts`` (every assert also a parity check).

The target (issue 15): adopted runs within 1.3x of the suite's own. Printed as a table of medians over
``ROUNDS`` runs of each. Run: ``python3 benchmarks/bench_adoption_cost.py [--tests N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

LIBRARY = """
import numpy as np


def softplus(x):
    return np.logaddexp(x, 0.0)


def normalize(x):
    return (x - x.mean()) / (x.std() + 1e-6)
"""

TEST_MODULE = """
import numpy as np
import pytest

import mylib


@pytest.mark.parametrize("case", range({cases}))
def test_softplus(case, device, dtype):
    x = np.linspace(-3, 3, 64, dtype=dtype) + case * 1e-3
    np.testing.assert_allclose(mylib.softplus(x), np.log1p(np.exp(x)), rtol=1e-3)


@pytest.mark.parametrize("case", range({cases}))
def test_normalize(case, device, dtype):
    x = np.arange(32, dtype=dtype) + case
    out = mylib.normalize(x)
    np.testing.assert_allclose(out.mean(), 0.0, atol=1e-3)
"""

OWN_CONFTEST = """
import numpy as np
import pytest


@pytest.fixture(params=["float32", "float64"])
def dtype(request):
    return np.dtype(request.param)


@pytest.fixture
def device():
    return "cpu"
"""

ADOPTED_CONFTEST = """
from pytest_accel.adoption import accel_fixture

dtype = accel_fixture("dtype")
device = accel_fixture("name")
"""

ADOPTED_INI = "[pytest]\naccel_framework = numpy\naccel_dtypes = float32 float64\n"


def _write_suite(root: Path, items: int, adopted: bool) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "mylib.py").write_text(LIBRARY)
    cases = max(1, items // 4)  # 2 test functions x 2 dtypes x cases
    (root / "test_mylib.py").write_text(TEST_MODULE.format(cases=cases))
    (root / "conftest.py").write_text(ADOPTED_CONFTEST if adopted else OWN_CONFTEST)
    (root / "pytest.ini").write_text(ADOPTED_INI if adopted else "[pytest]\n")


def _run(root: Path, *args: str) -> tuple[float, str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_ACCEL")}
    environment["PYTHONPATH"] = str(root)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-200:]
    if done.returncode != 0:
        raise SystemExit(f"a run failed ({' '.join(args)}): {last}")
    return elapsed, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-adoption-") as scratch:
        own, adopted = Path(scratch) / "own", Path(scratch) / "adopted"
        _write_suite(own, options.items, adopted=False)
        _write_suite(adopted, options.items, adopted=True)
        ways = {
            "own (-p no:accel)": (own, ("-p", "no:accel")),
            "adopted": (adopted, ("--accel-no-bench",)),
            "adopted+capture": (adopted, ("--accel-no-bench", "--accel-capture-asserts")),
        }
        times: dict[str, list[float]] = {name: [] for name in ways}
        outcomes: dict[str, str] = {}
        for _ in range(options.rounds):  # alternating, so that the machine's drift hits every way alike
            for name, (root, args) in ways.items():
                elapsed, outcomes[name] = _run(root, *args)
                times[name].append(elapsed)
    base = statistics.median(times["own (-p no:accel)"])
    rows = [
        [name, f"{statistics.median(t):.2f} s", f"{statistics.median(t) / base:.2f}x", outcomes[name]]
        for name, t in times.items()
    ]
    print(
        f"{options.items} items, median of {options.rounds} runs each; load average {os.getloadavg()[0]:.2f}"
    )
    print(tabulate(rows, headers=["run", "wall time", "vs own", "outcome"], disable_numparse=True))
    print("target: adopted runs within 1.3x of the suite's own")


if __name__ == "__main__":
    main()
