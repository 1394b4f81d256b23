"""The reference pass: the test body run once more on the reference device, inside another item.

Fixtures that (transitively) request ``accel_device`` are built again for the reference device, in
dependency order, and torn down right after; every other fixture value (module- or session-scoped
ones included) is reused untouched from the item.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Generator
from types import TracebackType
from typing import Any

import pytest

from pytest_accel.errors import ReferencePassError
from pytest_accel.fixture.accel_device import AccelDevice, item_run, running
from pytest_accel.fixture.item_run import RecordedCheck
from pytest_accel.reference.global_rngs import global_generators_seeded, item_body_seed

FIXTURE_NAME = "accel_device"


# A fixture definition: its name and its position in the override chain (-1 is the one in effect,
# -2 the one it overrides when it requests its own name, and so on).
FixtureKey = tuple[str, int]


class _PassRequest:
    """The ``request`` a fixture gets in a hidden pass: the item's, with the fixture's own ``param``."""

    def __init__(self, item: pytest.Function, fixturename: str) -> None:
        self._base = item._request
        self.fixturename = fixturename
        callspec = getattr(item, "callspec", None)
        if callspec is not None and fixturename in callspec.params:
            self.param = callspec.params[fixturename]
            self.param_index = callspec.indices.get(fixturename, 0)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._base, attribute)


class _FixtureGraph:
    """The item's fixtures as pytest resolved them, with the override chain of each name."""

    def __init__(self, item: pytest.Function) -> None:
        self.defs = item._fixtureinfo.name2fixturedefs
        self._memo: dict[FixtureKey, bool] = {}

    def children(self, key: FixtureKey) -> list[FixtureKey]:
        name, level = key
        return [(arg, level - 1) if arg == name else (arg, -1) for arg in self.defs[name][level].argnames]

    def exists(self, key: FixtureKey) -> bool:
        name, level = key
        return name in self.defs and -level <= len(self.defs[name])

    def depends_on_device(self, key: FixtureKey) -> bool:
        """Whether this fixture needs ``accel_device``, directly or through other fixtures."""
        if key[0] == FIXTURE_NAME:
            return True
        if key not in self._memo:
            self._memo[key] = False  # guards against cycles while computing
            self._memo[key] = self.exists(key) and any(
                self.depends_on_device(child) for child in self.children(key)
            )
        return self._memo[key]


def run_reference_pass(item: pytest.Function, reference: AccelDevice) -> list[RecordedCheck]:
    """Run the test body on ``reference`` and return the checks it recorded."""
    __tracebackhide__ = True  # a failure shows the test's lines and the message, not the plugin's
    from _pytest.fixtures import resolve_fixture_function

    graph = _FixtureGraph(item)
    values: dict[FixtureKey, Any] = {}
    teardowns: list[Generator[Any, None, None]] = []

    def value_of(key: FixtureKey) -> Any:
        __tracebackhide__ = True
        name, level = key
        if name == FIXTURE_NAME:
            return reference
        if key in values:
            return values[key]
        if level == -1 and not graph.depends_on_device(key):
            return item.funcargs[name]  # untouched: the item's own value (module/session ones too)
        fixturedef = graph.defs[name][level]
        func: Callable[..., Any] = resolve_fixture_function(fixturedef, item._request)
        kwargs = {
            arg: _PassRequest(item, name) if arg == "request" else value_of(child)
            for arg, child in zip(fixturedef.argnames, graph.children(key), strict=True)
        }
        if inspect.isgeneratorfunction(func):
            generator = func(**kwargs)
            teardowns.append(generator)
            values[key] = next(generator)
        else:
            values[key] = func(**kwargs)
        return values[key]

    run = item_run(reference)
    where = f"{run.pass_label} on {reference.framework} {reference.name} ({reference.dtype_name})"
    with running(reference):  # fixtures rebuilt for the pass and its body both act for the reference
        try:
            for name in item.fixturenames:
                if name != "request" and graph.depends_on_device((name, -1)):
                    value_of((name, -1))
            testargs = {
                arg: item._request if arg == "request" else value_of((arg, -1))
                for arg in item._fixtureinfo.argnames
            }
            with global_generators_seeded(item_body_seed(item)):  # the draws of the item's own body
                item.obj(**testargs)
        except pytest.skip.Exception as exc:
            pytest.skip(f"{where} skipped ({exc.msg}), so parity on this device cannot be judged")
        except (pytest.fail.Exception, KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except BaseException as exc:
            raise _reference_pass_error(where, exc) from None
        finally:
            for generator in reversed(teardowns):
                with contextlib.suppress(StopIteration):
                    next(generator)
    return run.recorded


def _reference_pass_error(where: str, exc: BaseException) -> ReferencePassError:
    """The error to raise for ``exc``, carrying ``exc``'s own traceback from the user's first frame on.

    pytest cuts a failure's traceback at the test function's frame; raised plainly, this error's
    traceback would hold only the plugin's frames (70 lines of its source). With the original traceback
    it shows the test's lines and the message, as a failure in the test itself does. The original
    exception stays reachable as ``__context__`` (not shown: its message is already in this one)."""
    error = ReferencePassError(
        f"{where} raised {type(exc).__name__}: {exc}\nNo parity could be judged; the error is in the "
        "test or the code under test on the reference device, not a device mismatch."
    )
    return error.with_traceback(_users_frames(exc.__traceback__))


def _users_frames(traceback: TracebackType | None) -> TracebackType | None:
    """The traceback without its leading frames of this module (the pass itself, fixture set-up)."""
    own = __file__
    while traceback is not None and traceback.tb_frame.f_code.co_filename == own:
        traceback = traceback.tb_next
    return traceback
