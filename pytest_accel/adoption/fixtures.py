"""``accel_fixture``: a suite's own ``device``/``dtype``/``xp`` fixture, derived from ``accel_device``.

A suite's conftest wins over any plugin fixture, so adoption must happen there: one line per fixture,
under the suite's own name, and every test that used that fixture becomes an accel test (the fixture
requests ``accel_device``), with no test edited.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pytest_accel.fixture.accel_device import AccelDevice

# The accel_device members a suite's fixture may stand for (README, "The fixture accel_device").
MEMBERS = (
    "native",
    "dtype",
    "name",
    "kind",
    "index",
    "framework",
    "dtype_name",
    "xp",
    "framework_xp",
    "hardware",
)


def accel_fixture(member: str | Callable[[AccelDevice], Any] = "native", *, name: str | None = None) -> Any:
    """A function-scoped pytest fixture whose value is ``accel_device.<member>``, or ``member(accel_device)``
    for a conversion no member gives (``lambda d: d.native.type``).

    Assign it at conftest module level under the suite's fixture name (``device = accel_fixture("native")``):
    pytest registers it under that name, or under ``name`` when given. A wrong member fails at conftest
    import, naming the members there are.
    """
    getter = _getter(member)
    label = member if isinstance(member, str) else getattr(member, "__name__", "a function")

    def derived(accel_device: AccelDevice) -> Any:
        return getter(accel_device)

    derived.__doc__ = f"accel_device's {label}: the item's device and dtype (pytest-accel adoption)."
    return pytest.fixture(derived, name=name)


def _getter(member: str | Callable[[AccelDevice], Any]) -> Callable[[AccelDevice], Any]:
    """How to get the value from an accel_device; a typo is the conftest's error, said at import."""
    if callable(member):
        return member
    if member not in MEMBERS:
        raise ValueError(
            f"accel_fixture({member!r}): not a member of accel_device; use one of {', '.join(MEMBERS)}, "
            "or pass a function of the accel_device (accel_fixture(lambda d: d.native.type))"
        )
    return lambda device: getattr(device, member)
