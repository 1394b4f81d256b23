"""Which assert functions capture wraps, and where they are found: the common ones, plus the suite's own.

A function is wrapped only where it is already loaded: a framework the session never imported is never
imported for this (a numpy-only session does not load torch to patch ``torch.testing``).
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

# The asserts device tests commonly end in. jax.numpy has no testing module: JAX suites use numpy's.
DEFAULT_FUNCTIONS = (
    "torch.testing.assert_close",
    "numpy.testing.assert_allclose",
    "numpy.testing.assert_array_almost_equal",
    "numpy.testing.assert_array_equal",
    "numpy.testing.assert_almost_equal",
    "numpy.testing.assert_equal",
)

_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")


@dataclass(frozen=True)
class Target:
    """One module attribute to wrap while an accel item runs."""

    dotted: str  # as listed: numpy.testing.assert_allclose
    module: ModuleType
    attribute: str
    original: Callable[..., Any]

    @property
    def label(self) -> str:
        """The short name checks are named after (``assert_allclose#0``)."""
        return self.attribute


def bad_names(names: Iterable[str]) -> list[str]:
    """The listed names that are not a dotted ``module.function`` name."""
    return [name for name in names if not _DOTTED.fullmatch(name)]


def resolve(names: Iterable[str], unwrap: Callable[[Any], Any]) -> tuple[list[Target], list[str]]:
    """The targets that are loaded now, and why the listed ones that should be are not usable.

    A name's module is imported only when its top-level package already is (``numpy.testing`` loads
    lazily under numpy 2, and a test's first ``np.testing`` would otherwise come too late). ``unwrap``
    gives the original function behind a wrapper, should one be left in place.
    """
    targets: list[Target] = []
    problems: list[str] = []
    seen: set[str] = set()
    for dotted in names:
        if dotted in seen:
            continue
        seen.add(dotted)
        module_name, _, attribute = dotted.rpartition(".")
        if module_name.split(".")[0] not in sys.modules:
            continue  # nothing in this session can call it yet
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            problems.append(f"{dotted}: cannot import {module_name} ({exc})")
            continue
        found = unwrap(getattr(module, attribute, None))
        if not callable(found):
            problems.append(f"{dotted}: {module_name} has no function {attribute}")
            continue
        targets.append(Target(dotted, module, attribute, found))
    return targets, problems
