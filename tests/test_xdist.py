"""pytest-xdist: the same verdicts, rows, files and reports as a serial run; devices decided once on the
controller; concurrent timings flagged and kept out of the gate; workers pinned to devices; a crashed
worker's lost items reported."""

from __future__ import annotations

import json
import re

import pytest
from conftest import HAS_JAX, HAS_TORCH
from shared_sessions import SharedProject

pytest.importorskip("xdist", reason="pytest-xdist (the test extra) is not installed")

SUITE = """
import numpy as np
import pytest

pytestmark = pytest.mark.accel(framework=FRAMEWORKS, dtypes=["float32", "float64"])

@pytest.mark.parametrize("size", [8, 64])
def test_matmul(accel_device, size):
    a = accel_device.randn(size, size)
    accel_device.check(accel_device.bench(lambda x: x @ x, a, name="mm"))

def test_sum(accel_device):
    accel_device.check(accel_device.randn(100).sum(), name="total")

def test_fails_parity(accel_device):
    x = accel_device.randn(10)
    accel_device.check(x + (1.0 if accel_device.kind != "cpu" or accel_device.index else 0.0))
"""

CONFTEST = """
import json, os
import pytest

@pytest.fixture(autouse=True)
def _note_devices(request):
    from pytest_accel.session.state import STATE_KEY
    state = request.config.stash[STATE_KEY]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "serial")
    device = request.node.funcargs.get("accel_device")
    with open(f"seen-{worker}-{request.node.name}.json", "w") as stream:
        json.dump({"handed": sorted(state.registry.handed or []),
                   "native": str(getattr(device, "native", None))}, stream)
    yield
"""

TIMING_FIELDS = {
    "samples",
    "median_s",
    "iqr_s",
    "first_call_s",
    "calls_per_sample",
    "warmup_calls",
    "stop_reason",
    "gate_extended_s",
}
WORKER_FIELDS = {"worker", "concurrent_workers", "call_s"}  # call_s: a timing, as the benches' are


def _frameworks() -> str:
    names = ["numpy"] + (["torch"] if HAS_TORCH else []) + (["jax"] if HAS_JAX else [])
    return repr(names)


def _without_timings(document: dict) -> list[dict]:
    results = []
    for result in document["results"]:
        kept = {k: v for k, v in result.items() if k not in WORKER_FIELDS}
        kept["benches"] = [{k: v for k, v in b.items() if k not in TIMING_FIELDS} for b in result["benches"]]
        results.append(kept)
    return results


# a bench's median and spread, or a test's whole time in parentheses; a speedup with its interval, or
# a whole-test one in parentheses
TIMES = re.compile(r"\d[\d.]* (s|ms|us|ns) ±\d+%|\(\d[\d.]* (s|ms|us|ns)\)")
SPEEDUPS = re.compile(r"(~1|[\d.]+)x \[[^\]]*\]|\([\d.e-]+x\)")


def _summary_rows(output: str) -> list[str]:
    """The accel tables' lines with every time and speedup (the noisy parts) replaced by a mark."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("tests in "))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("time: median"))
    rows = []
    for line in lines[start:end]:
        text = SPEEDUPS.sub("X", TIMES.sub("T", line))
        rows.append(" ".join(text.replace("-", " ").split()))
    return rows


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> SharedProject:
    """One suite whose serial and xdist runs every test of this module reads (each run made once)."""
    project = SharedProject(
        tmp_path_factory.mktemp("xdist-suite"),
        {"XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_ENABLE_X64": "1"},
    )
    project.write("test_suite.py", SUITE.replace("FRAMEWORKS", _frameworks()))
    project.write("conftest.py", CONFTEST)
    return project


def _run(project: SharedProject, name: str, *args: str) -> tuple[pytest.RunResult, dict, str]:
    result = project.run(
        "--accel=all",
        "--accel-bench-budget=0.02",
        f"--accel-save={name}.json",
        f"--accel-report={name}.md",
        "-p",
        "no:randomly",
        *args,
    )
    document = json.loads((project.path / f"{name}.json").read_text())
    return result, document, (project.path / f"{name}.md").read_text()


# loadgroup is load for items without xdist_group marks (these have none): load and loadscope differ in
# what one worker gets (single items, or whole modules, which changes what the reference cache reuses).
@pytest.mark.parametrize("dist", ["load", "loadscope"])
def test_xdist_gives_the_serial_rows_file_and_report(suite: SharedProject, dist: str) -> None:
    serial, serial_doc, serial_md = _run(suite, "serial")
    parallel, parallel_doc, parallel_md = _run(suite, f"parallel-{dist}", "-n", "2", f"--dist={dist}")
    assert parallel.parseoutcomes() == serial.parseoutcomes()
    if HAS_JAX:  # a second device (JAX's forced CPU) exists: its parity failure must agree
        assert serial.parseoutcomes().get("failed", 0) >= 1
    assert _summary_rows(parallel.stdout.str()) == _summary_rows(serial.stdout.str())
    assert _without_timings(parallel_doc) == _without_timings(serial_doc)
    assert all(bench["samples"] for r in parallel_doc["results"] for bench in r["benches"])
    assert parallel_doc["machines"] == serial_doc["machines"]
    strip_times = re.compile(r"\d[\d.]* (s|ms|us|ns)( ±[\d.]+%)?( \(noisy\))?")
    padding = re.compile(r"[ -]{2,}")  # table widths follow the widths of the times

    def stripped(text: str) -> str:
        return padding.sub(" ", SPEEDUPS.sub("X", strip_times.sub("T", text)))

    assert stripped(parallel_md) == stripped(serial_md)
    assert all(r["concurrent_workers"] == 2 for r in parallel_doc["results"])
    assert all(r["concurrent_workers"] == 1 and r["worker"] is None for r in serial_doc["results"])
    parallel.stdout.fnmatch_lines(["timings: 2 xdist workers timed benchmarks at the same time*"])


def test_workers_use_the_devices_the_controller_decided(suite: SharedProject) -> None:
    _run(suite, "parallel-load", "-n", "2", "--dist=load")  # its conftest notes what each worker saw
    seen = [json.loads(path.read_text()) for path in suite.path.glob("seen-gw*.json")]
    assert seen and all("numpy" in entry["handed"] for entry in seen)


def test_concurrent_timings_do_not_gate_unless_asked(suite: SharedProject) -> None:
    _run(suite, "serial")  # the baseline
    result = suite.run(*_gate_arguments("--accel-fail-slower=10%", "--accel-save=concurrent.json"))
    gate = json.loads((suite.path / "gate.json").read_text())["gate"]
    verdicts = {v["verdict"] for v in gate["verdicts"]}
    assert verdicts == {"not comparable"}
    assert all("xdist workers shared the device" in v["note"] for v in gate["verdicts"])
    assert "accel gate: FAILED" not in result.stdout.str()
    # asked for (--accel-gate-concurrent sets this flag of the gate), the same timings are compared
    from pytest_accel.gate.comparison import GateConfig, compare_documents
    from pytest_accel.results.file import load_results

    base, concurrent = (load_results(suite.path / name) for name in ("serial.json", "concurrent.json"))
    asked = compare_documents(base, concurrent, GateConfig(0.10, include_concurrent=True), "serial.json")
    assert asked.verdicts and "not comparable" not in {v.verdict for v in asked.verdicts}


def _gate_arguments(*args: str) -> tuple[str, ...]:
    return (
        "--accel=all",
        "--accel-bench-budget=0.02",
        "--accel-report=gate.json",
        "-n",
        "2",
        "--accel-compare=serial.json",
        *args,
    )


PINNED_SUITE = """
import pytest

pytestmark = pytest.mark.accel(framework=["jax", "numpy"])

class DeviceBroke(RuntimeError):
    pass

@pytest.mark.parametrize("n", range(6))
def test_where(accel_device, n):
    # a defect of JAX's second device only, in every other test: the serial run fails those items
    planted = 1.0 if accel_device.framework == "jax" and accel_device.index == 1 and n % 2 else 0.0
    accel_device.check(accel_device.randn(3) + planted)

def test_x_breaks_its_device(accel_device):
    if accel_device.index == 2:
        raise DeviceBroke("simulated fault that leaves cpu:2 unusable")
    accel_device.check(accel_device.randn(2))

def test_y_after_the_fault(accel_device):
    accel_device.check(accel_device.randn(2))
"""

# The simulated fault: JAX on the CPU has no error that breaks a device, so the suite's conftest teaches
# the JAX adapter that DeviceBroke does, as torch.AcceleratorError would on a GPU.
PINNED_CONFTEST = """
import pytest_accel.frameworks.jax_adapter as jax_adapter

_classify = jax_adapter.ADAPTER.fault_kind

def _fault_kind(exc, *args):
    return "device-unusable" if type(exc).__name__ == "DeviceBroke" else _classify(exc, *args)

jax_adapter.ADAPTER.fault_kind = _fault_kind
"""


def _outcomes(document: dict) -> dict[str, str]:
    return {result["nodeid"]: result["outcome"] for result in document["results"]}


@pytest.mark.skipif(not HAS_JAX, reason="jax is not installed")
def test_pinned_workers_judge_exactly_what_the_serial_run_judges(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 20.1 (a pinned worker ran a cpu:1 defect as the reference itself and passed it) and 19.2 (a
    fault under pinning was noted under another device name than the one looked up)."""
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=4")
    pytester.makepyfile(test_pinned=PINNED_SUITE)
    pytester.makeconftest(PINNED_CONFTEST)
    common = ("--accel=all", "--accel-no-bench", "-p", "no:randomly")
    serial = pytester.runpytest_subprocess(*common, "--accel-save=serial.json")
    pinned = pytester.runpytest_subprocess(
        *common, "-n", "2", "--accel-pin-workers", "--accel-save=pinned.json"
    )
    serial_outcomes = _outcomes(json.loads((pytester.path / "serial.json").read_text()))
    document = json.loads((pytester.path / "pinned.json").read_text())
    pinned_outcomes = _outcomes(document)
    failed = sorted(nodeid for nodeid, outcome in serial_outcomes.items() if outcome != "passed")
    # the planted defect (3 items on cpu:1), the breaking test, and the one after it on cpu:2 (an error:
    # it fails fast in its setup)
    assert len(failed) == 5, failed
    assert sum("jax-cpu:1-" in nodeid for nodeid in failed) == 3
    assert pinned_outcomes == serial_outcomes
    for result in (serial, pinned):
        result.assert_outcomes(passed=len(serial_outcomes) - 5, failed=4, errors=1)
    for result in (serial, pinned):
        result.stdout.fnmatch_lines(
            ["*jax cpu:2 is unusable in this process since *test_x_breaks_its_device*"]
        )
    # each device but the host CPU ran all its items on one worker, and the saved file says which
    owners: dict[str, set[str]] = {}
    for result in document["results"]:
        owners.setdefault(result["device"], set()).add(result["worker"])
    assert all(len(owners[device]) == 1 for device in ("cpu:1", "cpu:2", "cpu:3")), owners
    listed = {device for devices in document["worker_devices"].values() for device in devices}
    assert listed == {"jax cpu:1", "jax cpu:2", "jax cpu:3"}
    # the xdist run prints the serial run's collection header, and its summary lists every device
    pinned.stdout.fnmatch_lines(["accel: --accel-pin-workers: every device but the host CPU *"])
    pinned.stdout.fnmatch_lines(["accel: jax *: cpu (*), cpu:1 (*), cpu:2 (*), cpu:3 (*)"])
    devices = pinned.stdout.str().split("= accel =")[-1].split("devices:")[1].split("tests in")[0]
    assert all(f"cpu:{index} (" in devices for index in (1, 2, 3)), devices


def test_a_crashed_worker_does_not_crash_the_summary(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import os
        import pytest

        @pytest.mark.accel(framework="numpy")
        def test_fine(accel_device):
            accel_device.check(accel_device.randn(3))

        @pytest.mark.accel(framework="numpy")
        def test_crash(accel_device):
            os._exit(3)
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", "--accel-save=out.json")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["accel: an xdist worker crashed while running*", "*test_crash*", "*its results are lost*"]
    )
    assert "INTERNALERROR" not in result.stdout.str()
    document = json.loads((pytester.path / "out.json").read_text())
    assert [item.split("::")[1] for item in document["lost_items"]] == ["test_crash[numpy-cpu-float32]"]
