"""The reference pass: the test body run once more on the reference device, inside another item.

Fixtures that (transitively) request ``accel_device`` are built again for the reference device, in
dependency order, and torn down right after; every other fixture value (module- or session-scoped
ones included) is reused untouched from the item.
"""

from __future__ import annotations

import contextlib
import inspect
from collections import OrderedDict
from collections.abc import Callable, Generator
from typing import Any

import pytest

from pytest_accel.errors import ReferencePassError
from pytest_accel.fixture import AccelDevice, RecordedCheck

FIXTURE_NAME = "accel_device"


def _dependents(item: pytest.Function) -> set[str]:
    """Names of the item's fixtures that depend on ``accel_device``, directly or not."""
    defs = item._fixtureinfo.name2fixturedefs
    memo: dict[str, bool] = {FIXTURE_NAME: True}

    def depends(name: str, seen: frozenset[str]) -> bool:
        if name in memo:
            return memo[name]
        if name not in defs or name in seen or not defs[name]:
            return False
        result = any(depends(arg, seen | {name}) for arg in defs[name][-1].argnames)
        memo[name] = result
        return result

    return {name for name in item.fixturenames if depends(name, frozenset())}


def run_reference_pass(item: pytest.Function, reference: AccelDevice) -> list[RecordedCheck]:
    """Run the test body on ``reference`` and return the checks it recorded."""
    from _pytest.fixtures import resolve_fixture_function

    dependents = _dependents(item)
    defs = item._fixtureinfo.name2fixturedefs
    values: dict[str, Any] = {FIXTURE_NAME: reference}
    teardowns: list[Generator[Any, None, None]] = []

    def value_of(name: str) -> Any:
        if name in values:
            return values[name]
        if name == "request":
            return item._request
        if name not in dependents:
            return item.funcargs[name]
        fixturedef = defs[name][-1]
        func: Callable[..., Any] = resolve_fixture_function(fixturedef, item._request)
        kwargs = {arg: value_of(arg) for arg in fixturedef.argnames}
        if inspect.isgeneratorfunction(func):
            generator = func(**kwargs)
            teardowns.append(generator)
            values[name] = next(generator)
        else:
            values[name] = func(**kwargs)
        return values[name]

    try:
        for name in item.fixturenames:
            if name in dependents:
                value_of(name)
        testargs = {arg: value_of(arg) for arg in item._fixtureinfo.argnames}
        item.obj(**testargs)
    except (pytest.skip.Exception, pytest.fail.Exception, KeyboardInterrupt):
        raise
    except BaseException as exc:
        if isinstance(exc, (SystemExit, GeneratorExit)):
            raise
        raise ReferencePassError(
            f"{reference.pass_label} on {reference.framework} {reference.name} ({reference.dtype_name}) "
            f"raised {type(exc).__name__}: {exc}\nNo parity could be judged; the error is in the "
            "test or the code under test on the reference device, not a device mismatch."
        ) from exc
    finally:
        for generator in reversed(teardowns):
            with contextlib.suppress(StopIteration):
                next(generator)
    return reference.recorded


class ReferenceCache:
    """Reference checks already computed in this process, so each is computed at most once.

    Bounded by the bytes of the host copies it holds; the oldest entries go first.
    """

    def __init__(self, max_bytes: int = 1 << 30) -> None:
        self._entries: OrderedDict[tuple[Any, ...], list[RecordedCheck]] = OrderedDict()
        self._sizes: dict[tuple[Any, ...], int] = {}
        self._max_bytes = max_bytes

    def get(self, key: tuple[Any, ...]) -> list[RecordedCheck] | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: tuple[Any, ...], checks: list[RecordedCheck]) -> None:
        size = sum(
            leaf.values.nbytes for check in checks for leaf in check.leaves.values() if leaf is not None
        )
        if size > self._max_bytes:
            return
        self._entries[key] = checks
        self._sizes[key] = size
        while sum(self._sizes.values()) > self._max_bytes:
            oldest, _ = self._entries.popitem(last=False)
            del self._sizes[oldest]
