"""Adopting a suite that was not written for the plugin: its own fixtures from ``accel_device``, parity
from the asserts it already makes, and its pytest-benchmark calls timed per device."""

from pytest_accel.adoption.default_device import each_test_on_every_device
from pytest_accel.adoption.fixtures import accel_fixture

__all__ = ["accel_fixture", "each_test_on_every_device"]
