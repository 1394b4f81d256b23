"""pytest-accel: run tensor tests on every device, check parity with a reference, time each device.

This module is the public API. It imports no tensor framework (nor numpy), so that loading the plugin
stays cheap: ``AccelDevice``, the type of the ``accel_device`` fixture, loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_accel.errors import ParityError

if TYPE_CHECKING:
    from pytest_accel.fixture.accel_device import AccelDevice

__all__ = ["AccelDevice", "ParityError", "__version__", "assert_parity"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``pytest_accel.AccelDevice`` on first use (its module imports numpy), then kept here."""
    if name == "AccelDevice":
        from pytest_accel.fixture.accel_device import AccelDevice

        globals()[name] = AccelDevice
        return AccelDevice
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


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
