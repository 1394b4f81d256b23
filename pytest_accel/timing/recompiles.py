"""Compilations during ``bench``'s timed calls: a jitted function that compiles again at every call is a
performance bug that a median hides (the first call, timed apart, is expected to compile).

JAX: its compile events (``/jax/core/compile/backend_compile_duration``, one per XLA compilation, any
function's). torch.compile: dynamo's count of graphs it compiled. Only frameworks already imported are
watched; nothing is imported here.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

JAX_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


class CompileCounter:
    """Counts compilations while the ``with`` block runs; ``count`` is None where nothing could count."""

    def __init__(self) -> None:
        self.count: int | None = None
        self._jax_events = 0
        self._listening: Any = None
        self._dynamo_start: int | None = None

    def _on_jax_event(self, name: str, *args: Any, **kwargs: Any) -> None:
        if name == JAX_COMPILE_EVENT:
            self._jax_events += 1

    def __enter__(self) -> CompileCounter:
        monitoring = sys.modules.get("jax.monitoring")
        if monitoring is None and "jax" in sys.modules:
            monitoring = getattr(sys.modules["jax"], "monitoring", None)
        if monitoring is not None and hasattr(monitoring, "unregister_event_duration_listener"):
            monitoring.register_event_duration_secs_listener(self._on_jax_event)
            self._listening = monitoring
        self._dynamo_start = dynamo_graphs()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        counted = []
        if self._listening is not None:
            self._listening.unregister_event_duration_listener(self._on_jax_event)
            counted.append(self._jax_events)
        graphs = dynamo_graphs()
        if self._dynamo_start is not None and graphs is not None:
            counted.append(graphs - self._dynamo_start)
        self.count = sum(counted) if counted else None


def dynamo_graphs() -> int | None:
    """Graphs torch.compile (dynamo) has compiled in this process, if torch.compile was used at all."""
    utils = sys.modules.get("torch._dynamo.utils")
    counters = getattr(utils, "counters", None)
    if counters is None:
        return None
    return int(counters["stats"]["unique_graphs"])


def recompiled(bench: dict[str, Any]) -> bool:
    """Whether a saved bench compiled during its timed calls (its time then includes compilation)."""
    count = bench.get("recompiles")
    return isinstance(count, int) and not isinstance(count, bool) and count > 0
