"""pytest-accel: run tensor tests on every device, check parity with a reference, time each device.

This module is the public API. It imports no tensor framework, so that loading the plugin stays cheap.
"""

from __future__ import annotations

from typing import Any

from pytest_accel.errors import ParityError

__all__ = ["ParityError", "__version__", "assert_parity"]
__version__ = "0.1.0"


def assert_parity(
    actual: Any,
    expected: Any,
    rtol: float | None = None,
    atol: float | None = None,
) -> None:
    """Assert that ``actual`` matches ``expected`` within dtype-aware tolerances.

    Works on torch, jax and numpy arrays on any device, Python scalars, and nests (dict, list, tuple,
    namedtuple) of them. Raises :class:`ParityError` (an ``AssertionError``) naming the worst elements.
    """
    __tracebackhide__ = True  # a failure shows the test's line and the message, not this function
    from pytest_accel.parity.compare import compare_nests

    outcome = compare_nests(actual, expected, rtol=rtol, atol=atol)
    if not outcome.passed:
        raise ParityError(outcome.message())
