"""``--accel-pin-workers``: every device but the host CPU runs all its items on one xdist worker.

The items are exactly the serial run's (``test[torch-cuda:1-float32]`` runs on ``cuda:1``, and is
compared with the reference device there as it would be serially); only where they run changes. xdist
gets a scheduler that sends all items of one such device to one worker as a unit, so no two workers ever
time (or fill) one GPU at once, and a worker can own several devices, one after the other.
"""

from __future__ import annotations

import re
from typing import Any

from pytest_accel.frameworks import ALL_KINDS, KNOWN_FRAMEWORKS

HOST_CPU = "cpu"  # the host's first CPU device: shared by every worker anyway, never pinned
_ID_PART = re.compile(r"\[(?P<params>[^\[\]]*)\]$")


def accel_device_of(nodeid: str) -> tuple[str, str] | None:
    """(framework, device) of an accel item from its id, ``test[jax-cpu:1-float32-8]`` -> ``jax, cpu:1``."""
    match = _ID_PART.search(nodeid)
    if match is None:
        return None
    parts = match["params"].split("-")
    for position in range(len(parts) - 2):
        framework, device = parts[position], parts[position + 1]
        kind, _, index = device.partition(":")
        if framework in KNOWN_FRAMEWORKS and kind in ALL_KINDS and (not index or index.isdigit()):
            return framework, device
    return None


def pinned_device_of(nodeid: str) -> tuple[str, str] | None:
    """The device an item is pinned with, or None for items any worker may run (host CPU, plain tests)."""
    found = accel_device_of(nodeid)
    if found is None or found[1] == HOST_CPU:
        return None
    return found


def frameworks_in(nodeids: list[str]) -> list[str]:
    """The frameworks of the accel items among ``nodeids``, in order of first appearance."""
    seen: list[str] = []
    for nodeid in nodeids:
        found = accel_device_of(nodeid)
        if found is not None and found[0] not in seen:
            seen.append(found[0])
    return seen


def make_scheduler(config: Any, log: Any) -> Any:
    """xdist's scope scheduler, with one scope per pinned device and one per other item.

    Defined here, not at import time, so that the plugin loads without pytest-xdist installed.
    """
    from xdist.scheduler import LoadScopeScheduling

    class DevicePinnedScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            pinned = pinned_device_of(nodeid)
            if pinned is None:
                return nodeid  # its own unit: spread like --dist load
            return f"accel-device:{pinned[0]}:{pinned[1]}"

    return DevicePinnedScheduling(config, log)
