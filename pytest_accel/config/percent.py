"""Thresholds written as percentages ('10%' or 10): one parser for options, ini keys, markers and CLI."""

from __future__ import annotations

import math
from typing import Any

from pytest_accel.errors import AccelConfigError

MAX_PERCENT = 1000.0


def parse_percent(value: Any, what: str) -> float:
    """'10%', '10' or 10 -> 0.10. Zero, negative, not finite or above 1000% is an error naming ``what``."""
    text = str(value).strip()
    if isinstance(value, bool):
        text = "?"
    number_text = text[:-1].strip() if text.endswith("%") else text
    try:
        number = float(number_text)
    except ValueError:
        raise AccelConfigError(f"{what}={value!r} is not a percentage; write it as 10% or 10") from None
    if not (math.isfinite(number) and 0 < number <= MAX_PERCENT):
        raise AccelConfigError(f"{what}={value!r} must be a percentage above 0 and at most {MAX_PERCENT:g}%")
    return number / 100.0


def parse_noise(value: Any, what: str) -> float:
    """Like parse_percent, but 0 is allowed: a perfectly quiet machine has no run-to-run noise."""
    text = str(value).strip().removesuffix("%").strip()
    try:
        if float(text) == 0 and not isinstance(value, bool):
            return 0.0
    except ValueError:
        pass  # parse_percent says what is wrong
    return parse_percent(value, what)
