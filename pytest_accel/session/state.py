"""What one pytest session of pytest-accel holds: settings, devices, records, caches, the baseline.

A room of its own so that the plugin's hooks, the device factory and the saving code can all read it
without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from pytest_accel.config.options import Settings
from pytest_accel.device.registry import DeviceRegistry


@dataclass
class SessionState:
    settings: Settings
    registry: DeviceRegistry
    records: list[Any] = field(default_factory=list)
    reference_cache: Any = None
    baseline: Any = None  # pytest_accel.gate.baseline.Baseline in compare mode, loaded at configure
    broken_devices: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # faults.py
    lost_items: list[str] = field(default_factory=list)  # xdist: items whose worker crashed
    duet_worker: bool = False  # one side of a duet: no saved file, no reports of its own


STATE_KEY = pytest.StashKey[SessionState]()
DEVICE_KEY = pytest.StashKey[Any]()
RECORD_KEY = pytest.StashKey[Any]()


def session_state(config: pytest.Config) -> SessionState:
    return config.stash[STATE_KEY]
