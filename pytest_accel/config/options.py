"""Command-line options, ini keys and the environment: one table declares each setting once, and
``read_settings`` reads them all, in one place, into a ``Settings`` value."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from pytest_accel.config.marker import validate_dtypes, validate_frameworks
from pytest_accel.config.percent import parse_noise, parse_percent
from pytest_accel.device.spec import DeviceSpec, parse_spec
from pytest_accel.errors import AccelConfigError
from pytest_accel.gate.comparison import DEFAULT_RUN_NOISE
from pytest_accel.gate.sources import BaselineSource, parse_source
from pytest_accel.parity.tolerances import ToleranceTable, parse_tolerance_table

ENV_SPEC = "PYTEST_ACCEL"
DEFAULT_BENCH_BUDGET_S = 0.25
GATE_BUDGET_FACTOR = 4.0


@dataclass(frozen=True)
class Settings:
    """Everything the plugin reads from the configuration, validated; the defaults live in SETTINGS."""

    spec: DeviceSpec
    default_framework: tuple[str, ...]
    default_dtypes: tuple[str, ...]
    reference: str
    seed: int
    bench_enabled: bool
    bench_budget_s: float
    tolerances: ToleranceTable
    oracle: bool
    save_path: Path | None
    compare: BaselineSource | None  # result files (replicates), or a history's last runs (gate/sources.py)
    fail_slower: float | None
    gate_budget_s: float | None  # None: GATE_BUDGET_FACTOR x the bench budget
    gate_noise: float
    compare_any_hardware: bool
    gate_concurrent: bool
    pin_workers: bool
    plot_dir: Path | None
    report_paths: tuple[Path, ...]
    step_summary: bool
    summary_mode: str  # auto, full or compact: the accel section's table, or its screenful for big runs
    capture_asserts: bool
    capture_functions: tuple[str, ...]  # dotted names, beside the default ones (adoption/capture.py)
    history_path: Path | None  # the history database a finished run is appended to (history/)
    history_commit: str | None  # the commit and branch recorded with it (None: from the CI, or git)
    history_branch: str | None
    deterministic: bool  # run each accel test body twice on its device; checks must be bitwise equal
    fail_memory: float | None  # the memory gate's threshold (gate/memory.py), a fraction
    gate_recompiles: bool  # let benches that compiled during their timed calls gate on time too


class Given(NamedTuple):
    """A value the user gave, with where it came from: error messages must name the place to fix."""

    value: Any  # the text, or the list of words or lines of a list-valued setting
    what: str  # --accel-save, $PYTEST_ACCEL or ini accel_save
    base: Path  # the invocation folder, which relative paths start from


@dataclass(frozen=True)
class Setting:
    """One setting, declared as the user writes it: ``--accel-save=PATH`` (an option with a value and
    the ini key ``accel_save``), ``--accel-oracle`` (a flag) or ``accel_seed`` (an ini key only). The
    first of option, environment variable and ini key that is set is parsed; none: ``default``."""

    declared: str
    field: str  # the Settings field it fills
    parse: Callable[[Given], Any]
    default: Any
    help: str
    ini_type: str = "string"  # "args" (words) or "linelist": list-valued, and the option is repeatable
    env: str = ""  # an environment variable between the option and the ini key

    @property
    def option(self) -> str:
        return self.declared.partition("=")[0] if self.declared.startswith("--") else ""

    @property
    def metavar(self) -> str:
        return self.declared.partition("=")[2]

    @property
    def name(self) -> str:
        """The ini key, and the option's dest."""
        return self.declared.partition("=")[0].removeprefix("--").replace("-", "_")


def _plain(parse: Callable[[Any, str], Any]) -> Callable[[Given], Any]:
    """A parser of (value, what), the shape the config package's parsers share."""
    return lambda given: parse(given.value, given.what)


def _parse_bool(text: str, what: str) -> bool:
    """An ini boolean; anything but the usual spellings is a typo worth stopping for."""
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise AccelConfigError(f"{what}={text!r}: use true or false")


def parse_positive_float(text: str, what: str) -> float:
    """A budget in seconds: zero, negative, NaN or infinity would never end a bench or never start one."""
    try:
        value = float(text)
    except ValueError:
        raise AccelConfigError(f"{what}={text!r} is not a number of seconds") from None
    if not (value > 0 and math.isfinite(value)):
        raise AccelConfigError(f"{what}={text!r} must be a finite number greater than 0")
    return value


def _integer(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise AccelConfigError(f"{what}={text!r} is not an integer") from None


def _path(given: Given) -> Path:
    return Path(given.base, given.value)


def _text_or_none(given: Given) -> str | None:
    """Free text such as a commit or branch name; blank is as if not given."""
    return given.value.strip() or None


@contextlib.contextmanager
def _usage_error(errors: type[Exception] | tuple[type[Exception], ...], prefix: str = "") -> Iterator[None]:
    """A check's own error (a file that cannot be written, say) becomes the usage error pytest shows."""
    try:
        yield
    except errors as exc:
        raise AccelConfigError(f"{prefix}{exc}") from None


def _baseline_source(given: Given) -> BaselineSource:
    """Files or db:PATH, read at configure (plugin.py): here only what the text itself can get wrong."""
    with _usage_error(ValueError, f"{given.what}: "):
        return parse_source(given.value, given.base)


def _writable_save_path(given: Given) -> Path:
    """Fail before the work, not after it, when the results could not be saved there."""
    from pytest_accel.results.file import ResultsFileError, check_writable

    path = _path(given)
    with _usage_error(ResultsFileError):
        check_writable(path)
    return path


def _plot_dir_with_matplotlib(given: Given) -> Path:
    """Charts are drawn after the run: a missing matplotlib must stop it before."""
    from pytest_accel.summary.charts import PlotError, require_matplotlib

    with _usage_error(PlotError, f"{given.what}={given.value}: "):
        require_matplotlib()
    return _path(given)


def _writable_report_paths(given: Given) -> tuple[Path, ...]:
    """Reports are written last: a bad path must fail the run before its work, not after."""
    from pytest_accel.summary.writer import ReportError, check_report_path

    paths = tuple(Path(given.base, text) for text in given.value)
    for path in paths:
        with _usage_error(ReportError):
            check_report_path(path)
    return paths


def _usable_history(given: Given) -> Path:
    """A history file that exists must be one (not damaged, not newer): fail before the work."""
    from pytest_accel.history.store import HistoryError, check_database

    path = _path(given)
    with _usage_error(HistoryError, f"{given.what}={given.value}: "):
        check_database(path)
    return path


def _summary_mode(text: str, what: str) -> str:
    """auto, full or compact; anything else is a typo that would silently give the default."""
    from pytest_accel.summary.terminal import SUMMARY_MODES

    mode = text.strip().lower()
    if mode not in SUMMARY_MODES:
        raise AccelConfigError(f"{what}={text!r}: use one of {', '.join(SUMMARY_MODES)}")
    return mode


_boolean = _plain(_parse_bool)

# One row per setting: its declaration, Settings field, parser, default, then its help. Formatted by hand
# so that it reads as a table (ruff would give every argument a line of its own).
# fmt: off
SETTINGS: tuple[Setting, ...] = (
    Setting("--accel=SPEC", "spec", lambda given: parse_spec(given.value, source=given.what),
            parse_spec("cpu"), env=ENV_SPEC,
            help="devices to run accel tests on: cpu (default), cuda, cuda:1, tpu, mps, a list such as "
            f"cpu,cuda, or all (every device present); also ${ENV_SPEC} (the command line wins over it, "
            "and it over the ini key)"),
    Setting("accel_framework", "default_framework", _plain(validate_frameworks), (), ini_type="args",
            help="framework(s) of accel tests whose marker names none: torch, jax or numpy"),
    Setting("accel_dtypes", "default_dtypes", _plain(validate_dtypes), ("float32",), ini_type="args",
            help="default dtypes of accel tests"),
    Setting("accel_reference", "reference", lambda given: given.value, "cpu",
            help="reference device (default cpu)"),
    Setting("accel_seed", "seed", _plain(_integer), 0, help="default seed of accel_device.randn and friends"),
    Setting("--accel-no-bench", "bench_enabled", lambda given: not _boolean(given), True,
            help="turn timing off (accel_device.bench calls the function once and records nothing)"),
    Setting("--accel-bench-budget=SECONDS", "bench_budget_s", _plain(parse_positive_float),
            DEFAULT_BENCH_BUDGET_S,
            help=f"time budget of one bench call in seconds (default {DEFAULT_BENCH_BUDGET_S:g})"),
    Setting("--accel-oracle", "oracle", _boolean, False,
            help="also run each accel test in float64 on the CPU and report every device's error against "
            "that oracle; a device much less accurate than the reference fails"),
    Setting("--accel-save=PATH", "save_path", _writable_save_path, None,
            help="write this run's results (timings with samples, parity headroom, machine fingerprint) "
            "as JSON to PATH, atomically; an interrupted run leaves an existing file untouched"),
    Setting("--accel-compare=PATH", "compare", _baseline_source, None,
            help="compare every bench of this run with the same one in this saved results file (the "
            "baseline); several files separated by commas are replicates of the baseline, and db:PATH "
            "(db:PATH?last=K) takes the last 5 (K) runs of --accel-history-branch (default main) on this "
            "machine from a history database; without --accel-fail-slower this only reports"),
    Setting("--accel-fail-slower=PCT", "fail_slower", _plain(parse_percent), None,
            help="with --accel-compare: fail the run when a benchmark is significantly slower than the "
            "baseline by more than PCT (e.g. 10%)"),
    Setting("--accel-gate-budget=SECONDS", "gate_budget_s", _plain(parse_positive_float), None,
            help="in compare mode, a bench whose verdict is still undecided when its budget is spent keeps "
            f"sampling up to this many seconds (default {GATE_BUDGET_FACTOR:g}x the bench budget)"),
    Setting("--accel-gate-noise=PCT", "gate_noise", _plain(parse_noise), DEFAULT_RUN_NOISE,
            help="run-to-run noise of one benchmark that its own samples cannot see (standard deviation, "
            f"default {100 * DEFAULT_RUN_NOISE:g}%: a shared CI machine); lower it on a quiet machine"),
    Setting("--accel-compare-any-hardware", "compare_any_hardware", _boolean, False,
            help="let benchmarks gate even when their device's hardware differs from the baseline's"),
    Setting("--accel-gate-concurrent", "gate_concurrent", _boolean, False,
            help="let timings taken while several xdist workers shared a device gate too"),
    Setting("--accel-pin-workers", "pin_workers", _boolean, False,
            help="with pytest-xdist: all items of each device other than the host CPU run on one worker, so "
            "no two workers share a GPU; the items and verdicts are the serial run's"),
    Setting("--accel-plot=DIR", "plot_dir", _plot_dir_with_matplotlib, None,
            help="after the run, draw SVG charts into DIR (needs matplotlib: "
            "pip install 'pytest-accel[plot]')"),
    Setting("--accel-report=PATH", "report_paths", _writable_report_paths, (), ini_type="args",
            help="write a report: PATH.md (a pull request comment) or PATH.json; repeatable"),
    Setting("--accel-summary=MODE", "summary_mode", _plain(_summary_mode), "auto",
            help="the accel section of the terminal summary: auto (default: the full table while it fits "
            "a screen, else a compact summary per device), full (the table; -v gives it too) or compact"),
    Setting("accel_step_summary", "step_summary", _boolean, True,
            help="false: do not append the markdown report to $GITHUB_STEP_SUMMARY"),
    Setting("accel_tolerances", "tolerances", _plain(parse_tolerance_table), ToleranceTable({}),
            ini_type="linelist", help="tolerance overrides, one per line: 'float32: rtol=2e-5, atol=1e-7' or "
            "'cuda.bfloat16: rtol=0.1'"),
    Setting("--accel-capture-asserts", "capture_asserts", _boolean, False,
            help="in accel tests, also record the first argument of each assert_close / assert_allclose "
            "(and the like) as a parity check against the reference device; the assert still decides"),
    Setting("accel_capture_functions", "capture_functions", lambda given: tuple(given.value), (),
            ini_type="args", help="more assert functions to capture, as dotted names where the tests "
            "look them up (mylib.testing.assert_close)"),
    Setting("--accel-history=PATH", "history_path", _usable_history, None,
            help="append this run (every bench, the machine, the commit and branch) to the SQLite history "
            "database PATH, created if missing; python -m pytest_accel history check finds change points"),
    Setting("--accel-history-commit=SHA", "history_commit", _text_or_none, None,
            env="PYTEST_ACCEL_HISTORY_COMMIT",
            help="the commit recorded in the history (default: $GITHUB_SHA, else git's HEAD)"),
    Setting("--accel-history-branch=NAME", "history_branch", _text_or_none, None,
            env="PYTEST_ACCEL_HISTORY_BRANCH",
            help="the branch recorded in the history (default: the CI's, else git's; none when detached)"),
    Setting("--accel-deterministic", "deterministic", _boolean, False,
            help="run each accel test body a second time on its own device and fail checks whose bits "
            "differ (the marker's deterministic= wins)"),
    Setting("--accel-fail-memory=PCT", "fail_memory", _plain(parse_percent), None,
            help="with --accel-compare: fail the run when a benchmark's peak memory grew by more than PCT "
            "(e.g. 20%); memory is exact, so no statistics are involved"),
    Setting("--accel-gate-recompiles", "gate_recompiles", _boolean, False,
            help="let benchmarks that compiled during their timed calls gate on time too (their median "
            "includes compilation)"),
)
# fmt: on


def add_options(parser: pytest.Parser) -> None:
    """Every setting's ini key, and its command-line option where it has one."""
    group = parser.getgroup("accel", "pytest-accel: tensor tests on every device")
    for setting in SETTINGS:
        listed = setting.ini_type != "string"
        flag = bool(setting.option) and not setting.metavar
        parser.addini(
            setting.name,
            f"true: {setting.help}" if flag else setting.help,
            type=setting.ini_type,
            default=[] if listed else "",
        )
        if not setting.option:
            continue
        kind = (
            {"action": "store_true"}
            if flag
            else {"action": "append" if listed else "store", "metavar": setting.metavar}
        )
        help_text = setting.help.replace("%", "%%")  # argparse formats help with %
        group.addoption(setting.option, dest=setting.name, default=None, help=help_text, **kind)


def _ini_value(config: pytest.Config, name: str) -> str | list[str]:
    """The ini key's text, stripped, or its list; an unbalanced quote in 'args' is the user's to fix."""
    try:
        value = config.getini(name)
    except ValueError as exc:
        raise AccelConfigError(f"ini {name}: cannot split it into words ({exc}); check its quotes") from None
    return list(value) if isinstance(value, list) else str(value or "").strip()


def _given(config: pytest.Config, setting: Setting) -> Given | None:
    """The first of command-line option, environment variable and ini key that is set (not empty)."""
    base = config.invocation_params.dir
    value = config.getoption(setting.name) if setting.option else None
    if value:
        return Given(value if isinstance(value, list) else str(value), setting.option, base)
    if setting.env and os.environ.get(setting.env):
        return Given(os.environ[setting.env], f"${setting.env}", base)
    value = _ini_value(config, setting.name)
    return Given(value, f"ini {setting.name}", base) if value else None


def read_settings(config: pytest.Config) -> Settings:
    """Read and validate the configuration; bad values raise AccelConfigError with a fix."""
    given = {setting.name: _given(config, setting) for setting in SETTINGS}
    settings = Settings(
        **{
            setting.field: setting.default if (value := given[setting.name]) is None else setting.parse(value)
            for setting in SETTINGS
        }
    )
    _check_save_is_not_baseline(settings, given["accel_save"])
    _check_reports_overwrite_nothing(settings)
    return settings


def _baseline_paths(settings: Settings) -> set[Path]:
    return {path.resolve() for path in settings.compare.paths} if settings.compare is not None else set()


def _check_save_is_not_baseline(settings: Settings, save: Given | None) -> None:
    """A compare run never overwrites the baseline it compares with."""
    if save is None or settings.save_path is None:
        return  # (save_path is None exactly when save is: the test is for the type checker)
    if settings.save_path.resolve() in _baseline_paths(settings):
        raise AccelConfigError(
            f"--accel-save={save.value} names the baseline given to --accel-compare: a compare run never "
            "overwrites its baseline; save to another file"
        )


def _check_reports_overwrite_nothing(settings: Settings) -> None:
    """Reports are written last: one over the baseline or over the saved results would replace it."""
    for path in settings.report_paths:
        target = path.resolve()
        if target in _baseline_paths(settings):
            raise AccelConfigError(
                f"--accel-report={path} names the baseline given to --accel-compare: a compare run never "
                "overwrites its baseline; write the report to another file"
            )
        if settings.save_path is not None and target == settings.save_path.resolve():
            raise AccelConfigError(
                f"--accel-report={path} names the results file of --accel-save: the report would replace "
                "the saved results; write the report to another file"
            )
