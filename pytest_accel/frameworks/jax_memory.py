"""JAX's GPU memory: allocate on demand unless the user chose otherwise.

By default JAX takes 75% of each visible GPU's memory in every process that starts its GPU backend.
xdist workers, the two processes of a duet, and torch beside JAX in one session then run out of memory.
JAX reads the variables below when its GPU backend starts (the first ``jax.devices()``), so setting one
before the plugin first touches JAX is enough, and the processes the plugin starts inherit it.
Nothing here imports JAX.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

from pytest_accel.frameworks.discovery import Discovery

PREALLOCATE = "XLA_PYTHON_CLIENT_PREALLOCATE"
# Any of these set by the user means the user decided how JAX allocates: leave them all alone.
USER_CHOICES = (
    PREALLOCATE,
    "XLA_PYTHON_CLIENT_MEM_FRACTION",
    "XLA_CLIENT_MEM_FRACTION",
    "XLA_PYTHON_CLIENT_ALLOCATOR",
)

_set_here = False  # whether this process set PREALLOCATE (for the header's note)


def share_gpu_memory(environ: MutableMapping[str, str] | None = None) -> bool:
    """Set ``XLA_PYTHON_CLIENT_PREALLOCATE=false`` unless the user set any of JAX's memory variables.

    Returns whether it was set now. Called before the plugin first imports JAX.
    """
    global _set_here
    environ = os.environ if environ is None else environ
    if any(name in environ for name in USER_CHOICES):
        return False
    environ[PREALLOCATE] = "false"
    if environ is os.environ:
        _set_here = True
    return True


def jax_memory_note(found: Discovery | None) -> str | None:
    """The header's line saying the plugin turned JAX's preallocation off, where it matters (a JAX GPU
    in ``found``); None otherwise."""
    if not _set_here or found is None or not found.of_kind("cuda"):
        return None
    return (
        f"jax: {PREALLOCATE}=false set by pytest-accel (GPU memory as needed, not 75% per process); "
        "set it to true to keep JAX's default"
    )
