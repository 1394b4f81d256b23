"""The adoption package's hooks, registered by the plugin for every session."""

from __future__ import annotations

import warnings
from collections.abc import Generator
from typing import Any

import pytest

from pytest_accel.adoption.targets import DEFAULT_FUNCTIONS, bad_names
from pytest_accel.fixture.keys import DEVICE_KEY
from pytest_accel.session.state import SessionState


class AdoptionHooks:
    """Capture's validation and its patch window; the fixtures need no hook (see fixtures.py)."""

    def __init__(self, state: SessionState) -> None:
        self.state = state
        self._warned: set[str] = set()
        # Resolved targets by the packages loaded when they were resolved: an item's call looks them up
        # again only once a new package among the listed ones has been imported (torch first needed).
        self._resolved: dict[frozenset[str], tuple[list[Any], list[str]]] = {}

    def pytest_configure(self, config: pytest.Config) -> None:
        """A listed capture function that is no dotted name is a typo: stop before the run."""
        bad = bad_names(self.state.settings.capture_functions)
        if bad and not getattr(config.option, "help", False):
            raise pytest.UsageError(
                f"ini accel_capture_functions: {', '.join(map(repr, bad))} is not a dotted name of a "
                "function (module.function, e.g. mylib.testing.assert_close)"
            )

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> Generator[None, Any, Any]:
        """Outermost, so that the hidden passes the plugin runs inside the call see the wrappers too."""
        __tracebackhide__ = True
        settings = self.state.settings
        if not settings.capture_asserts or pyfuncitem.stash.get(DEVICE_KEY, None) is None:
            return (yield)
        from pytest_accel.adoption.capture import captured_asserts

        targets, problems = self._targets(DEFAULT_FUNCTIONS + settings.capture_functions)
        self._warn_once(problems)
        namespace = vars(pyfuncitem.module) if pyfuncitem.module is not None else {}
        with captured_asserts(targets, namespace):
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        """Under each_test_on_every_device, a failure about where data lives is named for what it is."""
        report = yield
        if call.excinfo is not None and report.failed:
            from pytest_accel.adoption.default_device import portability_note

            note = portability_note(item, call.excinfo.value)
            if note is not None:
                report.sections.append(("accel device portability", note))
        return report

    def _targets(self, names: tuple[str, ...]) -> tuple[list[Any], list[str]]:
        """The functions to wrap, resolved once per set of loaded packages, not once per item."""
        import sys

        from pytest_accel.adoption.capture import unwrap
        from pytest_accel.adoption.targets import resolve

        loaded = frozenset(name.split(".")[0] for name in names if name.split(".")[0] in sys.modules)
        if loaded not in self._resolved:
            self._resolved[loaded] = resolve(names, unwrap)
        return self._resolved[loaded]

    def _warn_once(self, problems: list[str]) -> None:
        """A listed function that cannot be found captures nothing: say so once, not per item."""
        for problem in problems:
            if problem not in self._warned:
                self._warned.add(problem)
                warnings.warn(f"accel_capture_functions: {problem}", pytest.PytestConfigWarning, stacklevel=1)
