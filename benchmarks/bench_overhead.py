"""Per-test overhead of the plugin: 500 trivial accel tests against the same 500 tests in plain pytest.

A temporary directory gets one test file per variant:

- ``accel+check``: ``@pytest.mark.accel(framework="numpy")`` on a test parametrized over ``i`` in
  ``range(500)``; the body draws ``x = accel_device.randn(4)`` and calls ``accel_device.check(x * 2)``.
- ``accel``: the same without the ``check``.
- ``plain``: ``@pytest.mark.parametrize("i", range(500))`` with a fixture-free body
  (``numpy.random.default_rng(i).standard_normal(4) * 2``), the plugin loaded as installed.
- ``plain -p no:accel``: the same with the plugin disabled (pytest's own cost of 500 tests).
- ``startup -p no:accel``: one trivial test with the plugin disabled (interpreter and pytest start-up).

Each runs in a subprocess, ``python3 -m pytest -q -p no:cacheprovider`` (the accel variants with
``--accel-no-bench``), several times with the variants alternating, so that drift of the machine hits all
of them alike. Reported: wall time min and median, and the ratio of each accel variant to ``plain``
(medians and minima). Target: accel/plain <= 1.5x.

Run: ``python3 benchmarks/bench_overhead.py [--repeats N]``. A script that prints tables; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import entry_points
from pathlib import Path

from tabulate import tabulate

N_TESTS = 500
TARGET_RATIO = 1.5

ACCEL_CHECK = f"""
import pytest


@pytest.mark.accel(framework="numpy")
@pytest.mark.parametrize("i", range({N_TESTS}))
def test_trivial(accel_device, i):
    x = accel_device.randn(4)
    accel_device.check(x * 2)
"""

ACCEL_NO_CHECK = f"""
import pytest


@pytest.mark.accel(framework="numpy")
@pytest.mark.parametrize("i", range({N_TESTS}))
def test_trivial(accel_device, i):
    x = accel_device.randn(4)
    assert (x * 2).shape == (4,)
"""

PLAIN = f"""
import numpy
import pytest


@pytest.mark.parametrize("i", range({N_TESTS}))
def test_trivial(i):
    x = numpy.random.default_rng(i).standard_normal(4).astype(numpy.float32)
    assert (x * 2).shape == (4,)
"""

STARTUP = """
def test_one():
    pass
"""

# name, file, extra pytest arguments, expected number of passed tests
VARIANTS = [
    ("accel+check", "test_accel_check.py", ["--accel-no-bench"], N_TESTS),
    ("accel (no check)", "test_accel_nocheck.py", ["--accel-no-bench"], N_TESTS),
    ("plain", "test_plain.py", [], N_TESTS),
    ("plain -p no:accel", "test_plain.py", ["-p", "no:accel"], N_TESTS),
    ("startup -p no:accel", "test_startup.py", ["-p", "no:accel"], 1),
]
ACCEL_VARIANTS = ("accel+check", "accel (no check)")
SOURCES = {
    "test_accel_check.py": ACCEL_CHECK,
    "test_accel_nocheck.py": ACCEL_NO_CHECK,
    "test_plain.py": PLAIN,
    "test_startup.py": STARTUP,
}


def run_once(directory: Path, test_file: str, extra: list[str], expected: int) -> float:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra, test_file]
    env = dict(os.environ)
    env.pop("PYTEST_ACCEL", None)
    env.pop("PYTEST_ADDOPTS", None)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=directory, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    passed = re.search(r"(\d+) passed", done.stdout)
    if done.returncode != 0 or passed is None or int(passed.group(1)) != expected:
        raise SystemExit(
            f"run of {' '.join(command)} did not pass {expected} tests (exit {done.returncode}):\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each variant (default 5)")
    options = parser.parse_args()

    import numpy
    import pytest

    print("== bench_overhead: 500 trivial tests, accel (--accel-no-bench) vs plain pytest ==")
    print(
        f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; pytest {pytest.__version__}; "
        f"numpy {numpy.__version__}; {options.repeats} runs per variant, alternating"
    )
    times: dict[str, list[float]] = {name: [] for name, *_ in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="accel-overhead-") as tmp:
        directory = Path(tmp)
        (directory / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        for filename, source in SOURCES.items():
            (directory / filename).write_text(source, encoding="utf-8")
        # One untimed run of each, so that bytecode caches and the page cache are warm for all alike.
        for _, filename, extra, expected in VARIANTS:
            run_once(directory, filename, extra, expected)
        for repeat in range(options.repeats):
            order = VARIANTS if repeat % 2 == 0 else list(reversed(VARIANTS))
            for name, filename, extra, expected in order:
                times[name].append(run_once(directory, filename, extra, expected))

    plain_median = statistics.median(times["plain"])
    plain_min = min(times["plain"])
    rows = []
    for name, _, extra, expected in VARIANTS:
        values = times[name]
        median, best = statistics.median(values), min(values)
        is_accel = name.startswith("accel")
        rows.append(
            [
                name,
                expected,
                " ".join(extra) or "-",
                f"{best:.2f}",
                f"{median:.2f}",
                f"{1e3 * median / expected:.2f}",
                f"{median / plain_median:.2f}x",
                f"{best / plain_min:.2f}x",
                ("yes" if median / plain_median <= TARGET_RATIO else "no") if is_accel else "",
            ]
        )
    headers = [
        "variant",
        "tests",
        "extra args",
        "wall min s",
        "wall median s",
        "ms per test (median)",
        "ratio to plain (median)",
        "ratio to plain (min)",
        f"<= {TARGET_RATIO}x",
    ]
    print(tabulate(rows, headers=headers, tablefmt="github"))
    startup = statistics.median(times["startup -p no:accel"])
    per_test = {
        name: (statistics.median(times[name]) - startup) / N_TESTS * 1e3
        for name in ("accel+check", "accel (no check)", "plain", "plain -p no:accel")
    }
    print(
        "wall time of the whole subprocess (interpreter start, plugin loading, collection, run, report). "
        "Marginal cost per test over bare start-up, (median - startup median) / 500: "
        + ", ".join(f"{name} {value:.2f} ms" for name, value in per_test.items())
    )
    print(
        "marginal ratio to plain (per-test cost only, start-up excluded): "
        + ", ".join(f"{name} {per_test[name] / per_test['plain']:.2f}x" for name in ACCEL_VARIANTS)
    )
    plugins = sorted(ep.name for ep in entry_points(group="pytest11") if ep.name != "accel")
    if plugins:
        print(f"other pytest plugins installed (every variant loads them): {', '.join(plugins)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
