"""Command-line options, ini keys and the environment: read once into a ``Settings`` value."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_accel.errors import AccelConfigError
from pytest_accel.spec import DeviceSpec, parse_spec
from pytest_accel.tolerances import ToleranceTable, parse_tolerance_table

ENV_SPEC = "PYTEST_ACCEL"
DEFAULT_BENCH_BUDGET_S = 0.25


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
    from pytest_accel.markers import validate_dtypes, validate_frameworks

    spec_text, source = config.getoption("accel"), "--accel"
    if not spec_text and os.environ.get(ENV_SPEC):
        spec_text, source = os.environ[ENV_SPEC], f"${ENV_SPEC}"
    if not spec_text and _ini_text(config, "accel"):
        spec_text, source = _ini_text(config, "accel"), "ini accel"
    spec = parse_spec(spec_text or "cpu", source=source)

    frameworks = validate_frameworks(config.getini("accel_framework"), "ini accel_framework")
    dtypes = validate_dtypes(config.getini("accel_dtypes"), "ini accel_dtypes") or ("float32",)

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
        from pytest_accel.results_file import ResultsFileError, check_writable

        save_path = Path(config.invocation_params.dir, save_text)
        try:
            check_writable(save_path)
        except ResultsFileError as exc:
            raise AccelConfigError(str(exc)) from None
    return Settings(
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
