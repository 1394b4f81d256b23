"""Charts: SVG files that read without the terminal, named safely, and a clear message without matplotlib."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pytest

from pytest_accel.results.file import assemble_document, save_atomically
from pytest_accel.summary.charts import PlotError, draw_charts, safe_name

# matplotlib comes with the plot and test extras (CI has it); a machine without the registry may lack it.
needs_matplotlib = pytest.mark.skipif(
    importlib.util.find_spec("matplotlib") is None, reason="matplotlib (the plot extra) is not installed"
)

SAFE = re.compile(r"^[A-Za-z0-9._-]+\.svg$")


def _result(test: str, device: str, median: float, reference: bool, framework: str = "numpy") -> dict:
    samples = [median * (1 + 0.01 * (i % 5)) for i in range(30)]
    return {
        "nodeid": f"{test}[{framework}-{device}-float32]",
        "test": test,
        "framework": framework,
        "framework_version": "2",
        "device": device,
        "hardware": "cpu",
        "dtype": "float32",
        "is_reference": reference,
        "reference_device": "cpu",
        "outcome": "passed",
        "checks": [],
        "benches": [
            {
                "name": "op",
                "method": "perf_counter",
                "samples": samples,
                "calls_per_sample": 1,
                "first_call_s": median,
                "warmup_calls": 1,
                "stop_reason": "stable",
            }
        ],
    }


def _svg_text(path: Path) -> str:
    """Every piece of text in an SVG (charts keep text as text, so names can be found and read)."""
    root = ElementTree.parse(path).getroot()
    assert root.tag.endswith("svg")
    return " ".join(t for element in root.iter() for t in (element.text,) if t and t.strip())


def _assert_svgs(paths: list[Path]) -> None:
    for path in paths:
        assert SAFE.match(path.name), path.name
        _svg_text(path)


@needs_matplotlib
def test_charts_of_a_run_and_of_a_comparison(tmp_path: Path) -> None:
    odd = "t.py::test_odd[a/b:c*d?]"
    base = [_result(odd, "cpu", 1e-3, True), _result(odd, "cpu:1", 5e-4, False)]
    new = [_result(odd, "cpu", 3e-3, True), _result(odd, "cpu:1", 5e-4, False)]
    folder = tmp_path / "charts"
    from pytest_accel.gate.comparison import GateConfig, compare_documents

    base_doc = assemble_document({"m": {}}, {}, base, "m")
    new_doc = assemble_document({"m": {}}, {}, new, "m")
    gate = compare_documents(base_doc, new_doc, GateConfig(run_noise=0.01), "base")
    paths = draw_charts(new_doc["results"], folder, gate=gate, baseline=base_doc, current=new_doc)
    names = sorted(path.name for path in paths)
    assert "overview-speedup.svg" in names
    assert any(name.startswith("time-t.py_test_odd") for name in names)
    assert any(name.startswith("compare-") and "test_odd" in name for name in names)  # the 3x slower one
    assert sum(name.startswith("compare-") for name in names) == 1  # the unchanged cpu:1 gets none
    _assert_svgs(paths)
    overview = _svg_text(folder / "overview-speedup.svg")
    assert "speedup" in overview and "test_odd" in overview and "cpu:1" in overview
    (times,) = [p for p in paths if p.name.startswith("time-")]
    assert "t.py::test_odd[a/b:c*d?]" in _svg_text(times) and "numpy cpu:1" in _svg_text(times)
    (compared,) = [p for p in paths if p.name.startswith("compare-")]
    text = _svg_text(compared)
    assert "baseline" in text and "this run" in text and "threshold" in text and "slower" in text


def test_file_names_are_safe_and_bounded() -> None:
    assert safe_name("tests/test_x.py::test[a/b:c*d?<>|]") == "tests_test_x.py_test_a_b_c_d"
    long = safe_name("x" * 500)
    assert len(long) <= 80 and SAFE.match(long + ".svg")
    assert safe_name("x" * 500) != safe_name("x" * 499)  # distinct ids stay distinct


def test_without_matplotlib_the_message_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(PlotError, match=r'pip install "pytest-accel\[plot\]"'):
        draw_charts([], tmp_path)


@needs_matplotlib
def test_plugin_option_draws_charts_after_the_run(pytester: pytest.Pytester, two_jax_devices_hosted) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.accel(framework="jax")
        def test_mm(accel_device):
            x = accel_device.randn(32, 32)
            accel_device.check(accel_device.bench(lambda a: a @ a, x, name="mm"))
        """
    )
    result = two_jax_devices_hosted("--accel=all", "--accel-bench-budget=0.05", "--accel-plot=charts")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["accel: * chart(s) written to*"])
    paths = sorted((pytester.path / "charts").glob("*.svg"))
    assert {p.name for p in paths} >= {
        "overview-speedup.svg",
        "time-test_plugin_option_draws_charts_after_the_run.py_test_mm.svg",
    }
    _assert_svgs(paths)


@needs_matplotlib
def test_plot_command_from_saved_files(tmp_path: Path) -> None:
    base = tmp_path / "base.json"
    new = tmp_path / "new.json"
    save_atomically(base, assemble_document({"m": {}}, {}, [_result("t.py::test_a", "cpu", 1e-3, True)], "m"))
    save_atomically(new, assemble_document({"m": {}}, {}, [_result("t.py::test_a", "cpu", 4e-3, True)], "m"))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest_accel",
            "plot",
            str(new),
            "--compare",
            str(base),
            "-o",
            str(tmp_path / "c"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "chart(s) written" in done.stdout
    assert "no speedup overview: each framework ran on one device only" in done.stdout  # the cpu alone
    names = {p.name for p in (tmp_path / "c").glob("*.svg")}
    assert any(name.startswith("compare-t.py_test_a") for name in names)
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest_accel",
            "plot",
            str(tmp_path / "nope.json"),
            "-o",
            str(tmp_path / "d"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 4 and "nope.json" in missing.stderr and "Traceback" not in missing.stderr


@needs_matplotlib
def test_plot_command_on_a_file_from_a_gpu_machine_works_without_the_gpu(tmp_path: Path) -> None:
    """A results file saved on an H200 machine (torch cpu and cuda:0) is drawn here, with no GPU."""
    fixture = Path(__file__).parent / "data" / "h200_results.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest_accel", "plot", str(fixture), "-o", str(tmp_path / "c")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    overview = _svg_text(tmp_path / "c" / "overview-speedup.svg")
    assert "test_matmul" in overview and "cuda:0" in overview
    times = _svg_text(tmp_path / "c" / "time-tests_test_ops.py_test_matmul.svg")
    assert "torch cuda:0" in times and "torch cpu" in times


# -- axes that tell the truth --------------------------------------------------------------------------


@pytest.fixture
def drawn_axes(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    """The scales and limits of every chart drawn, by chart name, read from the figure before it is saved."""
    from pytest_accel.summary import charts as plots

    seen: dict[str, dict[str, Any]] = {}
    save = plots._save

    def record(plt: Any, figure: Any, folder: Path, name: str) -> Path:
        (axes,) = figure.axes
        seen[name] = {
            "xscale": axes.get_xscale(),
            "yscale": axes.get_yscale(),
            "xlim": axes.get_xlim(),
            "ylim": axes.get_ylim(),
        }
        return save(plt, figure, folder, name)

    monkeypatch.setattr(plots, "_save", record)
    return seen


@needs_matplotlib
def test_close_times_are_bars_from_zero(tmp_path: Path, drawn_axes: dict[str, dict[str, Any]]) -> None:
    """1.48e-4 s against 1.54e-4 s is a 4% difference, and must look like one (a log axis from 1.47e-4
    made the shorter bar a sliver)."""
    test = "t.py::test_close"
    results = [_result(test, "cpu", 1.48e-4, True), _result(test, "cpu:1", 1.54e-4, False)]
    draw_charts(results, tmp_path)
    axes = drawn_axes[f"time-{test}"]
    low, high = axes["ylim"]
    assert axes["yscale"] == "linear" and low == 0
    assert 1.48e-4 / high > 0.8  # the shorter bar fills most of the chart, as 96% of the longer should


@needs_matplotlib
def test_times_decades_apart_are_on_a_log_axis_from_a_decade_below(
    tmp_path: Path, drawn_axes: dict[str, dict[str, Any]]
) -> None:
    test = "t.py::test_far"
    results = [_result(test, "cpu", 2e-2, True), _result(test, "cpu:1", 3e-6, False)]
    draw_charts(results, tmp_path)
    axes = drawn_axes[f"time-{test}"]
    low, high = axes["ylim"]
    assert axes["yscale"] == "log" and low <= 3e-7 and high >= 2e-2  # the short bar spans a decade


@needs_matplotlib
def test_speedups_start_at_one_and_a_small_one_looks_small(
    tmp_path: Path, drawn_axes: dict[str, dict[str, Any]]
) -> None:
    test = "t.py::test_same"
    results = [_result(test, "cpu", 1.00e-3, True), _result(test, "cpu:1", 0.96e-3, False)]
    draw_charts(results, tmp_path)
    axes = drawn_axes["overview-speedup"]
    low, high = axes["xlim"]
    assert axes["xscale"] == "log" and low <= 0.5 and high >= 2.0  # 1.04x sits near the line at 1


@needs_matplotlib
def test_one_device_per_framework_says_why_there_is_no_overview(tmp_path: Path) -> None:
    test = "t.py::test_both"
    results = [_result(test, "cpu", 1e-3, True), _result(test, "cpu", 2e-3, True, framework="torch")]
    notes: list[str] = []
    paths = draw_charts(results, tmp_path, notes=notes)
    assert [path.name for path in paths] == ["time-t.py_test_both.svg"]
    (note,) = notes
    assert note.startswith("no speedup overview: each framework ran on one device only")


@needs_matplotlib
def test_plugin_says_why_there_is_no_overview(pytester: pytest.Pytester) -> None:
    """numpy has the CPU alone: the run draws its time chart and says why there is no overview."""
    import matplotlib.pyplot  # noqa: F401  (imported here once: the in-process run must not import it anew)

    pytester.makepyfile(
        """
        import numpy as np
        import pytest

        @pytest.mark.accel(framework="numpy")
        def test_sort(accel_device):
            accel_device.check(accel_device.bench(np.sort, accel_device.randn(64), name="sort"))
        """
    )
    result = pytester.runpytest("--accel-bench-budget=0.01", "--accel-plot=charts")
    result.assert_outcomes(passed=1)
    text = " ".join(result.stdout.str().split())
    assert "accel: 1 chart(s) written to charts" in text
    assert "accel: no speedup overview: each framework ran on one device only" in text
    assert [path.name for path in (pytester.path / "charts").glob("*.svg")] == [
        "time-test_plugin_says_why_there_is_no_overview.py_test_sort.svg"
    ]
