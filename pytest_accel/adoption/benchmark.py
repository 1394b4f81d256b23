"""pytest-benchmark's ``benchmark`` fixture inside an accel item: each call timed by ``accel_device.bench``.

A suite's performance tests (``benchmark(fn, x)``, ``benchmark.pedantic(fn, args=...)``) then get
per-device timings that are synchronized with the device (pytest-benchmark's timer measures launches on
an accelerator), in the summary, the saved file and the gate, without an edit. Outside accel items the
fixture is pytest-benchmark's own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

FIXTURE = "benchmark"


class DeviceBenchmark:
    """Stands in for pytest-benchmark's fixture: the same calls, timed on the running accel device."""

    def __init__(self, original: Any) -> None:
        self._original = original

    def __call__(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return self._bench(function, args, kwargs)

    def pedantic(
        self,
        target: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        setup: Callable[[], Any] | None = None,
        teardown: Callable[..., Any] | None = None,
        rounds: int = 1,
        warmup_rounds: int = 0,
        iterations: int = 1,
    ) -> Any:
        """Rounds and iterations are bench's to choose; ``setup`` runs once and may supply the arguments."""
        __tracebackhide__ = True
        if setup is not None:
            supplied = setup()
            if supplied is not None:
                args, kwargs = supplied
        try:
            return self._bench(target, tuple(args), dict(kwargs or {}))
        finally:
            if teardown is not None:
                teardown(*args, **(kwargs or {}))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)  # group, name, extra_info, ... as pytest-benchmark has them

    def _bench(self, function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        __tracebackhide__ = True
        from pytest_accel.fixture.accel_device import running_device

        # pytest-benchmark warns at teardown about a fixture it saw unused; it was used, through bench.
        if hasattr(self._original, "_mode"):
            self._original._mode = "accel_device.bench(...)"
        device = running_device()
        if device is None:  # not in an accel item's body: pytest-benchmark's own behaviour
            return self._original(function, *args, **kwargs)
        return device.bench(function, *args, **kwargs)


@contextlib.contextmanager
def time_benchmark_calls_on_the_device(funcargs: dict[str, Any]) -> Iterator[None]:
    """While an accel item's body runs, the test receives the stand-in instead of pytest-benchmark's
    fixture; the original is put back after (pytest-benchmark reads it when the report is made)."""
    original = funcargs.get(FIXTURE)
    if original is None or isinstance(original, DeviceBenchmark) or not hasattr(original, "pedantic"):
        yield
        return
    funcargs[FIXTURE] = DeviceBenchmark(original)
    try:
        yield
    finally:
        funcargs[FIXTURE] = original
