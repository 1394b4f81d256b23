"""Command-line options, ini keys and the environment: read once into a ``Settings`` value."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_accel.device.spec import DeviceSpec, parse_spec
from pytest_accel.errors import AccelConfigError
from pytest_accel.parity.tolerances import ToleranceTable, parse_tolerance_table

ENV_SPEC = "PYTEST_ACCEL"
DEFAULT_BENCH_BUDGET_S = 0.25
DEFAULT_GATE_NOISE = 0.20  # keep equal to gate.comparison.DEFAULT_RUN_NOISE (a test checks)
GATE_BUDGET_FACTOR = 4.0


@dataclass(frozen=True)
class Settings:
    """Everything the plugin reads from the configuration, validated."""

    spec: DeviceSpec
    default_framework: tuple[str, ...]
    default_dtypes: tuple[str, ...]
    reference: str
    seed: int
    bench_enabled: bool
    bench_budget_s: float
    tolerances: ToleranceTable
    oracle: bool
    save_path: Path | None = None
    compare_path: Path | None = None
    fail_slower: float | None = None
    gate_budget_s: float | None = None  # None: GATE_BUDGET_FACTOR x the bench budget
    gate_noise: float = DEFAULT_GATE_NOISE
    compare_any_hardware: bool = False
    gate_concurrent: bool = False
    pin_workers: bool = False
    plot_dir: Path | None = None
    report_paths: tuple[Path, ...] = ()
    step_summary: bool = True

    @property
    def compare_mode(self) -> bool:
        return self.compare_path is not None


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("accel", "pytest-accel: tensor tests on every device")
    group.addoption(
        "--accel",
        dest="accel",
        default=None,
        metavar="SPEC",
        help="devices to run accel tests on: cpu (default), cuda, cuda:1, tpu, mps, "
        f"a list such as cpu,cuda, or all (every device present). Also ${ENV_SPEC} and ini 'accel'.",
    )
    group.addoption(
        "--accel-no-bench",
        dest="accel_no_bench",
        action="store_true",
        default=None,
        help="turn timing off: accel_device.bench calls the function once and records nothing",
    )
    group.addoption(
        "--accel-bench-budget",
        dest="accel_bench_budget",
        default=None,
        metavar="SECONDS",
        help=f"time budget of one bench call (default {DEFAULT_BENCH_BUDGET_S})",
    )
    group.addoption(
        "--accel-oracle",
        dest="accel_oracle",
        action="store_true",
        default=None,
        help="also run each accel test in float64 on the CPU and report every device's error "
        "against that oracle; a device much less accurate than the reference fails",
    )
    group.addoption(
        "--accel-save",
        dest="accel_save",
        default=None,
        metavar="PATH",
        help="write this run's results (timings with samples, parity headroom, machine fingerprint) "
        "as JSON to PATH, atomically; an interrupted run leaves an existing file untouched",
    )
    parser.addini("accel_save", "write the run's results as JSON to this path (--accel-save)", default="")
    _add_gate_options(group, parser)
    parser.addini("accel", "default device SPEC for accel tests (like --accel)", default="")
    parser.addini(
        "accel_framework",
        "framework(s) of accel tests whose marker names none: torch, jax or numpy",
        type="args",
        default=[],
    )
    parser.addini("accel_dtypes", "default dtypes of accel tests", type="args", default=[])
    parser.addini("accel_reference", "reference device (default cpu)", default="")
    parser.addini("accel_seed", "default seed of accel_device.randn and friends", default="")
    parser.addini("accel_no_bench", "true to turn timing off (like --accel-no-bench)", default="")
    parser.addini("accel_bench_budget", "time budget of one bench call in seconds", default="")
    parser.addini(
        "accel_tolerances",
        "tolerance overrides, one per line: 'float32: rtol=2e-5, atol=1e-7' or 'cuda.bfloat16: rtol=0.1'",
        type="linelist",
        default=[],
    )
    parser.addini("accel_oracle", "true to turn on the float64 oracle (like --accel-oracle)", default="")


def _add_gate_options(group: pytest.OptionGroup, parser: pytest.Parser) -> None:
    group.addoption(
        "--accel-compare",
        dest="accel_compare",
        default=None,
        metavar="PATH",
        help="compare every bench of this run with the same one in this saved results file (the "
        "baseline); without --accel-fail-slower this only reports",
    )
    group.addoption(
        "--accel-fail-slower",
        dest="accel_fail_slower",
        default=None,
        metavar="PCT",
        help="with --accel-compare: fail the run when a benchmark is significantly slower than the "
        "baseline by more than PCT (e.g. 10%%)",
    )
    group.addoption(
        "--accel-gate-budget",
        dest="accel_gate_budget",
        default=None,
        metavar="SECONDS",
        help="in compare mode, a bench whose verdict is still undecided when its budget is spent keeps "
        f"sampling up to this many seconds (default {GATE_BUDGET_FACTOR:g}x the bench budget)",
    )
    group.addoption(
        "--accel-gate-noise",
        dest="accel_gate_noise",
        default=None,
        metavar="PCT",
        help="run-to-run noise of one benchmark that its own samples cannot see (standard deviation, "
        f"default {100 * DEFAULT_GATE_NOISE:g}%%: a shared CI machine); lower it on a quiet machine",
    )
    group.addoption(
        "--accel-compare-any-hardware",
        dest="accel_compare_any_hardware",
        action="store_true",
        default=None,
        help="let benchmarks gate even when their device's hardware differs from the baseline's",
    )
    group.addoption(
        "--accel-gate-concurrent",
        dest="accel_gate_concurrent",
        action="store_true",
        default=None,
        help="let timings taken while several xdist workers shared a device gate too",
    )
    group.addoption(
        "--accel-pin-workers",
        dest="accel_pin_workers",
        action="store_true",
        default=None,
        help="with pytest-xdist: all items of each device other than the host CPU run on one worker, so "
        "no two workers share a GPU; the items and verdicts are the serial run's",
    )
    group.addoption(
        "--accel-plot",
        dest="accel_plot",
        default=None,
        metavar="DIR",
        help="after the run, draw SVG charts into DIR (needs matplotlib: pip install 'pytest-accel[plot]')",
    )
    group.addoption(
        "--accel-report",
        dest="accel_report",
        action="append",
        default=None,
        metavar="PATH",
        help="write a report: PATH.md (a pull request comment) or PATH.json; repeatable",
    )
    for name, text in (
        ("accel_compare", "baseline results file to compare with (--accel-compare)"),
        ("accel_fail_slower", "gate threshold, e.g. 10% (--accel-fail-slower)"),
        ("accel_gate_budget", "seconds a still-undecided bench may sample in compare mode"),
        ("accel_gate_noise", "run-to-run noise of a benchmark, e.g. 20% (--accel-gate-noise)"),
        ("accel_compare_any_hardware", "true: compare benchmarks across different hardware"),
        ("accel_step_summary", "false: do not append the markdown report to $GITHUB_STEP_SUMMARY"),
        ("accel_gate_concurrent", "true: timings taken while xdist workers shared a device may gate"),
        ("accel_plot", "folder for SVG charts after the run (--accel-plot)"),
        ("accel_pin_workers", "true: one xdist worker per device but the host CPU (--accel-pin-workers)"),
    ):
        parser.addini(name, text, default="")
    parser.addini("accel_report", "report paths (.md or .json), like --accel-report", type="args", default=[])


def _ini_words(config: pytest.Config, name: str) -> list[str]:
    """An ini key of type 'args', split like a shell line; an unbalanced quote is the user's to fix."""
    try:
        return list(config.getini(name))
    except ValueError as exc:
        raise AccelConfigError(f"ini {name}: cannot split it into words ({exc}); check its quotes") from None


def _ini_text(config: pytest.Config, name: str) -> str:
    value = config.getini(name)
    return str(value).strip() if value is not None else ""


def _parse_bool(text: str, what: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise AccelConfigError(f"{what}={text!r}: use true or false")


def parse_positive_float(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise AccelConfigError(f"{what}={text!r} is not a number of seconds") from None
    if not (value > 0 and math.isfinite(value)):
        raise AccelConfigError(f"{what}={text!r} must be a finite number greater than 0")
    return value


def read_settings(config: pytest.Config) -> Settings:
    """Read and validate the configuration; bad values raise AccelConfigError with a fix."""
    from pytest_accel.config.marker import validate_dtypes, validate_frameworks

    spec_text, source = config.getoption("accel"), "--accel"
    if not spec_text and os.environ.get(ENV_SPEC):
        spec_text, source = os.environ[ENV_SPEC], f"${ENV_SPEC}"
    if not spec_text and _ini_text(config, "accel"):
        spec_text, source = _ini_text(config, "accel"), "ini accel"
    spec = parse_spec(spec_text or "cpu", source=source)

    frameworks = validate_frameworks(_ini_words(config, "accel_framework"), "ini accel_framework")
    dtypes = validate_dtypes(_ini_words(config, "accel_dtypes"), "ini accel_dtypes") or ("float32",)

    seed_text = _ini_text(config, "accel_seed") or "0"
    try:
        seed = int(seed_text)
    except ValueError:
        raise AccelConfigError(f"ini accel_seed={seed_text!r} is not an integer") from None

    no_bench = config.getoption("accel_no_bench")
    if no_bench is None:
        no_bench = _parse_bool(_ini_text(config, "accel_no_bench"), "ini accel_no_bench")
    budget_text = config.getoption("accel_bench_budget")
    budget_what = "--accel-bench-budget"
    if budget_text is None:
        budget_text, budget_what = _ini_text(config, "accel_bench_budget"), "ini accel_bench_budget"
    budget = parse_positive_float(budget_text, budget_what) if budget_text else DEFAULT_BENCH_BUDGET_S
    oracle = config.getoption("accel_oracle")
    if oracle is None:
        oracle = _parse_bool(_ini_text(config, "accel_oracle"), "ini accel_oracle")
    save_text = config.getoption("accel_save") or _ini_text(config, "accel_save")
    save_path = None
    if save_text:
        from pytest_accel.results.file import ResultsFileError, check_writable

        save_path = Path(config.invocation_params.dir, save_text)
        try:
            check_writable(save_path)
        except ResultsFileError as exc:
            raise AccelConfigError(str(exc)) from None
    if save_path is not None and gate_paths_clash(config, save_path):
        raise AccelConfigError(
            f"--accel-save={save_text} names the baseline given to --accel-compare: a compare run never "
            "overwrites its baseline; save to another file"
        )
    gate = _read_gate_settings(config, budget)
    _check_report_paths_clash(gate, save_path)
    return Settings(
        **gate,
        spec=spec,
        default_framework=frameworks,
        default_dtypes=dtypes,
        reference=_ini_text(config, "accel_reference") or "cpu",
        seed=seed,
        bench_enabled=not no_bench,
        bench_budget_s=budget,
        tolerances=parse_tolerance_table(list(config.getini("accel_tolerances"))),
        oracle=oracle,
        save_path=save_path,
    )


def _option_or_ini(config: pytest.Config, name: str) -> tuple[str, str]:
    """The option's text if given, else the ini key's; with the name to quote in an error."""
    value = config.getoption(name)
    if value is not None:
        return str(value), "--" + name.replace("_", "-")
    return _ini_text(config, name), f"ini {name}"


def gate_paths_clash(config: pytest.Config, save_path: Path) -> bool:
    compare_text, _ = _option_or_ini(config, "accel_compare")
    if not compare_text:
        return False
    compare_path = Path(config.invocation_params.dir, compare_text)
    return compare_path.resolve() == save_path.resolve()


def _check_report_paths_clash(gate: dict[str, object], save_path: Path | None) -> None:
    """Reports are written last: one over the baseline or over the saved results would replace it."""
    compare_path = gate["compare_path"]
    report_paths = gate["report_paths"]
    assert isinstance(report_paths, tuple)
    for path in report_paths:
        target = path.resolve()
        if isinstance(compare_path, Path) and target == compare_path.resolve():
            raise AccelConfigError(
                f"--accel-report={path} names the baseline given to --accel-compare: a compare run never "
                "overwrites its baseline; write the report to another file"
            )
        if save_path is not None and target == save_path.resolve():
            raise AccelConfigError(
                f"--accel-report={path} names the results file of --accel-save: the report would replace "
                "the saved results; write the report to another file"
            )


def _read_gate_settings(config: pytest.Config, bench_budget: float) -> dict[str, object]:
    """Compare mode, threshold, gate budget and noise, report paths; each value validated."""
    from pytest_accel.config.percent import parse_percent

    base = config.invocation_params.dir
    compare_text, _ = _option_or_ini(config, "accel_compare")
    slower_text, slower_what = _option_or_ini(config, "accel_fail_slower")
    budget_text, budget_what = _option_or_ini(config, "accel_gate_budget")
    noise_text, noise_what = _option_or_ini(config, "accel_gate_noise")
    any_hardware = config.getoption("accel_compare_any_hardware")
    if any_hardware is None:
        any_hardware = _parse_bool(
            _ini_text(config, "accel_compare_any_hardware"), "ini accel_compare_any_hardware"
        )
    concurrent = config.getoption("accel_gate_concurrent")
    if concurrent is None:
        concurrent = _parse_bool(_ini_text(config, "accel_gate_concurrent"), "ini accel_gate_concurrent")
    pin = config.getoption("accel_pin_workers")
    if pin is None:
        pin = _parse_bool(_ini_text(config, "accel_pin_workers"), "ini accel_pin_workers")
    plot_text, plot_what = _option_or_ini(config, "accel_plot")
    if plot_text:
        from pytest_accel.summary.charts import PlotError, require_matplotlib

        try:
            require_matplotlib()
        except PlotError as exc:
            raise AccelConfigError(f"{plot_what}={plot_text}: {exc}") from None
    reports = config.getoption("accel_report") or _ini_words(config, "accel_report")
    report_paths = tuple(Path(base, text) for text in reports)
    if report_paths:
        from pytest_accel.summary.writer import ReportError, check_report_path

        for path in report_paths:
            try:
                check_report_path(path)
            except ReportError as exc:
                raise AccelConfigError(str(exc)) from None
    step_text = _ini_text(config, "accel_step_summary")
    return {
        "compare_path": Path(base, compare_text) if compare_text else None,
        "fail_slower": parse_percent(slower_text, slower_what) if slower_text else None,
        "gate_budget_s": parse_positive_float(budget_text, budget_what) if budget_text else None,
        "gate_noise": _parse_noise(noise_text, noise_what) if noise_text else DEFAULT_GATE_NOISE,
        "compare_any_hardware": bool(any_hardware),
        "gate_concurrent": bool(concurrent),
        "pin_workers": bool(pin),
        "plot_dir": Path(base, plot_text) if plot_text else None,
        "report_paths": report_paths,
        "step_summary": _parse_bool(step_text, "ini accel_step_summary") if step_text else True,
    }


def _parse_noise(text: str, what: str) -> float:
    from pytest_accel.config.percent import parse_noise

    return parse_noise(text, what)
