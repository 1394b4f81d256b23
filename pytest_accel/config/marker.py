"""The ``@pytest.mark.accel(...)`` marker: its arguments, validated, merged with the configuration."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pytest_accel.dtypes.names import DTYPE_NAMES, FULL_DTYPE_NAMES, full_dtype_name
from pytest_accel.errors import AccelConfigError
from pytest_accel.frameworks import ALL_KINDS, KNOWN_FRAMEWORKS

MARKER_HELP = (
    "accel(framework=None, devices=None, dtypes=None, rtol=None, atol=None, reference=None, "
    "seed=None, bench_budget=None, tf32=False, oracle=None, fail_slower=None, deterministic=None): run "
    "the test on each selected device (fixture accel_device) and check parity with the reference device"
)
MARKER_KEYS = (
    "framework",
    "devices",
    "dtypes",
    "rtol",
    "atol",
    "reference",
    "seed",
    "bench_budget",
    "tf32",
    "oracle",
    "fail_slower",
    "deterministic",
)


@dataclass(frozen=True)
class TestOptions:
    """What one accel test asked for, after merging its marker with the configuration."""

    frameworks: tuple[str, ...]
    kinds: tuple[str, ...] | None
    dtypes: tuple[str, ...]
    rtol: float | None
    atol: float | None
    reference: str
    seed: int
    bench_budget_s: float | None
    tf32: bool = False
    oracle: bool | None = None
    fail_slower: float | None = None  # this test's gate threshold as a fraction (marker: '10%')
    deterministic: bool | None = None  # run the body twice on its device, checks bitwise equal


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, Iterable):
        items: list[Any] = []
        for item in value:
            items.extend(_as_tuple(item) if isinstance(item, str) else (item,))
        return tuple(items)
    return (value,)


def validate_frameworks(value: Any, what: str) -> tuple[str, ...]:
    names = tuple(str(v).strip().lower() for v in _as_tuple(value))
    for name in names:
        if name not in KNOWN_FRAMEWORKS:
            raise AccelConfigError(
                f"{what}: unknown framework {name!r}; use one of {', '.join(KNOWN_FRAMEWORKS)}"
            )
    return names


def validate_dtypes(value: Any, what: str) -> tuple[str, ...]:
    """Full dtype names, in order, without repeats: short names become full ones at once, so that ids,
    saved files and reports always carry the full name."""
    names = []
    for item in _as_tuple(value):
        name = item if isinstance(item, str) else str(item)
        full = full_dtype_name(name.removeprefix("torch.").strip())
        if full is None:
            raise AccelConfigError(
                f"{what}: unknown dtype {item!r}; use names such as {', '.join(DTYPE_NAMES)} (or the "
                f"summary's short names: {', '.join(FULL_DTYPE_NAMES)})"
            )
        names.append(full)
    return tuple(dict.fromkeys(names))


def _validate_kinds(value: Any, what: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    kinds = tuple(str(v).strip().lower() for v in _as_tuple(value))
    if not kinds:
        raise AccelConfigError(f"{what}: names no device kind; use e.g. devices=['cpu', 'cuda'] or omit it")
    for kind in kinds:
        if kind not in ALL_KINDS:
            raise AccelConfigError(
                f"{what}: unknown device kind {kind!r}; use kinds from {', '.join(ALL_KINDS)}"
            )
    return kinds


def _optional_float(value: Any, what: str) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise AccelConfigError(f"{what}={value!r} is not a number") from None
    if not (math.isfinite(number) and number >= 0):
        raise AccelConfigError(f"{what}={value!r} must be a finite number, not negative")
    return number


def _positive_budget(value: Any, what: str) -> float | None:
    number = _optional_float(value, what)
    if number is not None and number == 0:
        raise AccelConfigError(f"{what}=0: a time budget must be greater than 0 (or use --accel-no-bench)")
    return number


def _optional_percent(value: Any, what: str) -> float | None:
    from pytest_accel.config.percent import parse_percent

    return None if value is None else parse_percent(value, what)


def read_marker(
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    default_frameworks: tuple[str, ...],
    default_dtypes: tuple[str, ...],
    default_reference: str,
    default_seed: int,
    test_name: str,
) -> TestOptions:
    """Validate the marker's arguments; raise AccelConfigError naming the test and the fix."""
    where = f"{test_name}: @pytest.mark.accel"
    if args:
        raise AccelConfigError(f"{where} takes keyword arguments only, e.g. framework='torch'")
    unknown = sorted(set(kwargs) - set(MARKER_KEYS))
    if unknown:
        raise AccelConfigError(
            f"{where} got unknown argument(s) {', '.join(unknown)}; it accepts {', '.join(MARKER_KEYS)}"
        )
    frameworks = validate_frameworks(kwargs.get("framework"), f"{where}(framework=...)")
    frameworks = frameworks or default_frameworks
    if not frameworks:
        raise AccelConfigError(
            f"{test_name} is an accel test but no framework is named for it: add "
            "framework='torch' (or 'jax', 'numpy', or a list) to @pytest.mark.accel, or set "
            "accel_framework in the pytest configuration. A test never runs under a framework "
            "it was not written for."
        )
    dtypes = validate_dtypes(kwargs.get("dtypes"), f"{where}(dtypes=...)") or default_dtypes
    seed = kwargs.get("seed", default_seed)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise AccelConfigError(f"{where}(seed={seed!r}): seed must be an integer")
    reference = kwargs.get("reference") or default_reference
    for flag in ("tf32", "oracle", "deterministic"):
        if kwargs.get(flag) is not None and not isinstance(kwargs[flag], bool):
            raise AccelConfigError(f"{where}({flag}={kwargs[flag]!r}): use True or False")
    return TestOptions(
        frameworks=frameworks,
        kinds=_validate_kinds(kwargs.get("devices"), f"{where}(devices=...)"),
        dtypes=dtypes,
        rtol=_optional_float(kwargs.get("rtol"), f"{where}(rtol)"),
        atol=_optional_float(kwargs.get("atol"), f"{where}(atol)"),
        reference=str(reference),
        seed=seed,
        bench_budget_s=_positive_budget(kwargs.get("bench_budget"), f"{where}(bench_budget)"),
        tf32=bool(kwargs.get("tf32", False)),
        oracle=kwargs.get("oracle"),
        fail_slower=_optional_percent(kwargs.get("fail_slower"), f"{where}(fail_slower)"),
        deterministic=kwargs.get("deterministic"),
    )
