"""The ``python -m pytest_accel`` commands, and what they share: exit codes and usage errors.

Exit codes are the same for every command so that CI scripts can tell a slower benchmark (1) from a
mistake in how the command was called or what it was given (4).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1  # a benchmark significantly slower than its threshold, or (duet) failing tests
EXIT_INTERRUPTED = 2  # Ctrl-C, as pytest uses it
EXIT_USAGE = 4  # bad arguments or bad input files


class UsageError(Exception):
    """Bad arguments or input: printed as ``error: <message>`` and exit code 4, never a traceback."""


def percent_option(value: str | None, option: str, zero_allowed: bool = False) -> float | None:
    """'10%' or '10' -> 0.10 (None stays None); anything else is a usage error naming the option and value."""
    if value is None:
        return None
    from pytest_accel.config.percent import parse_noise, parse_percent
    from pytest_accel.errors import AccelConfigError

    try:
        return (parse_noise if zero_allowed else parse_percent)(value, option)
    except AccelConfigError as exc:
        raise UsageError(str(exc)) from None


def load_input(path: Path, role: str) -> dict[str, Any]:
    """A results file as a version-2 document; any problem with it is the user's input, so a usage error."""
    from pytest_accel.results.file import ResultsFileError, load_results

    try:
        return load_results(path, role=role)
    except ResultsFileError as exc:
        raise UsageError(str(exc)) from None
