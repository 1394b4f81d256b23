"""Captured asserts: while an accel item's body runs, each call of a captured assert function also records
its ``actual`` (first argument) as ``running_device().check(actual, name="assert_allclose#0")``, then
calls the original, whose verdict stands.

Checks then compare every device with the reference device's run of the same test at the plugin's
tolerance rule, from asserts the suite already makes. The wrappers are in place only inside
:func:`captured_asserts` (the item's call, its hidden passes included) and record only there, on the
device whose body is running; a captured function that calls another records once.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections import Counter
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_accel.adoption.targets import Target
from pytest_accel.dtypes.names import DTYPE_NAMES
from pytest_accel.fixture.accel_device import running_device
from pytest_accel.parity.leaves import adapter_of

if TYPE_CHECKING:
    from pytest_accel.fixture.accel_device import AccelDevice

_ORIGINAL = "__accel_captured__"  # a wrapper's attribute holding the function it wraps
_SCALARS = (bool, int, float, complex)
_MISSING = object()


@dataclass
class _Window:
    """One item's capture: how often each function was called in each body run (item, hidden passes)."""

    calls: dict[AccelDevice, Counter[str]] = field(default_factory=dict)

    def record(self, device: AccelDevice, label: str, actual: Any) -> None:
        __tracebackhide__ = True
        counts = self.calls.setdefault(device, Counter())
        index = counts[label]
        counts[label] += 1
        if actual is not _MISSING and checkable(actual):
            device.check(actual, name=f"{label}#{index}")


_WINDOW: ContextVar[_Window | None] = ContextVar("accel_capture_window", default=None)
# The device whose captured call is in progress: a captured call inside it (a wrapper of an assert)
# records nothing more, while a hidden pass started inside it (another device) still records.
_CAPTURING: ContextVar[AccelDevice | None] = ContextVar("accel_capturing", default=None)
_WRAPPERS: dict[Callable[..., Any], Callable[..., Any]] = {}


def unwrap(function: Any) -> Any:
    """The original behind a capture wrapper (one left in place by a test's own monkeypatch)."""
    return getattr(function, _ORIGINAL, function)


def checkable(value: Any) -> bool:
    """Whether to record ``value``: arrays or floats, alone or in nests with numbers. Anything else (a
    string, an object, a count or shape of ints, a device index that differs between devices by design)
    is never recorded, on any device, so the check sequence stays aligned."""
    compared = False  # whether a leaf is a float or an array, not only ints, bools and Nones
    for leaf in _leaves(value):
        if _numeric_array(leaf) or isinstance(leaf, (float, complex)):
            compared = True
        elif not (leaf is None or isinstance(leaf, _SCALARS)):
            return False
    return compared


def _leaves(value: Any) -> Iterator[Any]:
    """The leaves of a nest as ``check`` walks it (dicts, lists, tuples)."""
    if isinstance(value, dict):
        for child in value.values():
            yield from _leaves(child)
    elif isinstance(value, (list, tuple)):
        for child in value:
            yield from _leaves(child)
    else:
        yield value


def _numeric_array(value: Any) -> bool:
    """A torch, jax or numpy array (or numpy scalar) of a dtype ``check`` compares."""
    adapter = adapter_of(value)
    if adapter is None or not adapter.is_array(value):
        return False
    try:
        name = adapter.dtype_name(value)
    except (TypeError, ValueError):
        return False
    return name in DTYPE_NAMES or name.startswith(("uint", "int"))


def _actual_parameter(function: Callable[..., Any]) -> str | None:
    """The name of ``function``'s first parameter, for calls that pass ``actual=`` by keyword."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return None
    return parameters[0].name if parameters else None


def wrapper_for(target: Target) -> Callable[..., Any]:
    """The capturing wrapper of ``target``'s function (one per function, so identity stays stable)."""
    original = target.original
    if original in _WRAPPERS:
        return _WRAPPERS[original]
    label, keyword = target.label, _actual_parameter(original)

    @functools.wraps(original)
    def captured(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        window, device = _WINDOW.get(), running_device()
        if window is None or device is None or _CAPTURING.get() is device:
            return original(*args, **kwargs)
        token = _CAPTURING.set(device)
        try:
            actual = args[0] if args else (kwargs.get(keyword, _MISSING) if keyword else _MISSING)
            window.record(device, label, actual)
            return original(*args, **kwargs)
        finally:
            _CAPTURING.reset(token)

    setattr(captured, _ORIGINAL, original)
    _WRAPPERS[original] = captured
    return captured


@contextlib.contextmanager
def captured_asserts(targets: list[Target], namespace: dict[str, Any]) -> Iterator[None]:
    """Wrap ``targets`` where the tests look them up: the module attributes, and the names the test
    module imported directly (``namespace``, its globals). Everything is restored on the way out, even
    when the body fails."""
    swaps: list[tuple[dict[str, Any], str, Any]] = []
    token = _WINDOW.set(_Window())
    try:
        wrappers = {id(target.original): wrapper_for(target) for target in targets}
        for target in targets:
            swaps.append((vars(target.module), target.attribute, target.original))
            vars(target.module)[target.attribute] = wrappers[id(target.original)]
        for name, value in list(namespace.items()):
            wrapper = wrappers.get(id(value))  # by identity: no attribute of an arbitrary global is read
            if wrapper is not None:
                swaps.append((namespace, name, value))
                namespace[name] = wrapper
        yield
    finally:
        for where, name, value in reversed(swaps):
            where[name] = value
        _WINDOW.reset(token)
