"""The gate benchmark's suite as accel tests (numpy on the CPU)."""

import pytest
import suite_lib

pytestmark = pytest.mark.accel(framework="numpy", dtypes=["float64"])


def test_sort_small(accel_device):
    accel_device.bench(suite_lib.sort_small, accel_device.randn(300))


def test_cumsum_16k(accel_device):
    accel_device.bench(suite_lib.cumsum_16k, accel_device.randn(16384))


def test_fft_16k(accel_device):
    accel_device.bench(suite_lib.fft_16k, accel_device.randn(16384))


def test_sort_large(accel_device):
    accel_device.bench(suite_lib.sort_large, accel_device.randn(250_000))
