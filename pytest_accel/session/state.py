"""What one pytest session of pytest-accel holds: settings, devices, records, caches, the baseline.

A room of its own so that the plugin's hooks, the device factory and the saving code can all read it
without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from pytest_accel.config.options import Settings
from pytest_accel.device.registry import DeviceRegistry

if TYPE_CHECKING:  # for the stash key's type only
    from pytest_accel.results.records import ItemRecord


@dataclass
class SessionState:
    settings: Settings
    registry: DeviceRegistry
    records: list[Any] = field(default_factory=list)
    reference_cache: Any = None
    baseline: Any = None  # pytest_accel.gate.baseline.Baseline in compare mode, loaded at configure
    broken_devices: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # faults.py
    lost_items: list[str] = field(default_factory=list)  # xdist: items whose worker crashed
    absent_on_workers: list[str] = field(default_factory=list)  # xdist: requested devices workers lacked
    worker_header: list[str] = field(default_factory=list)  # xdist: the workers' header lines
    duet_worker: bool = False  # one side of a duet: no saved file, no reports of its own
    duet_burst: Any = None  # a duet round after the first: bench name -> its short burst (duet/burst.py)


STATE_KEY = pytest.StashKey[SessionState]()
# Annotated rather than subscripted: the type exists for type checkers only (see the imports above).
# An accel item's accel_device is stashed under fixture.keys.DEVICE_KEY.
RECORD_KEY: pytest.StashKey[ItemRecord] = pytest.StashKey()  # what the item produced, for its report
