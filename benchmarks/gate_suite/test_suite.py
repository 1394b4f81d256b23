"""The gate benchmark's suite as accel tests (numpy on the CPU)."""

import pytest
import suite_lib

pytestmark = pytest.mark.accel(framework="numpy", dtypes=["float64"])


def test_sort_small(accel_device):
    accel_device.bench(suite_lib.sort_small, accel_device.randn(2000))


def test_cumsum_64k(accel_device):
    accel_device.bench(suite_lib.cumsum_64k, accel_device.randn(65536))


def test_fft_64k(accel_device):
    accel_device.bench(suite_lib.fft_64k, accel_device.randn(65536))


def test_sort_large(accel_device):
    accel_device.bench(suite_lib.sort_large, accel_device.randn(1_000_000))
