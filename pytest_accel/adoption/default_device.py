"""Suites with no device fixture at all: each test once per device, under the framework's default device.

Their tests call ``jnp.ones(...)`` or ``torch.randn(...)`` directly. A conftest that imports
``each_test_on_every_device`` (an autouse fixture) makes every test of its folder an accel test, and the
body runs under the framework's default-device context for the item's device (``jax.default_device``,
a ``torch.device`` as a context manager), so the arrays it makes land there; with
``--accel-capture-asserts`` its asserts become the parity checks. The hidden reference pass rebuilds the
fixture for the reference device, so the same body runs there under that device.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pytest_accel.fixture.accel_device import AccelDevice

MARK = "accel_default_device"  # stashed on items that ran under the switch (their failures are explained)
ON_THE_DEVICE = pytest.StashKey[str]()


@pytest.fixture(autouse=True)
def each_test_on_every_device(accel_device: AccelDevice, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Every test of this conftest's folder on every device, its arrays made there by default."""
    from pytest_accel.fixture.accel_device import item_run

    run = item_run(accel_device)
    if not run.is_hidden:
        request.node.stash[ON_THE_DEVICE] = f"{accel_device.framework} {accel_device.name}"
    with run.adapter.default_device(accel_device.native):
        yield accel_device


def portability_note(item: pytest.Item, exc: BaseException) -> str | None:
    """Why a test failed under the switch, when its error is about where data lives (a ``.numpy()`` of a
    GPU tensor, arrays on two devices): the test is not device-portable, which is what was asked."""
    where = item.stash.get(ON_THE_DEVICE, None)
    if where is None or isinstance(exc, AssertionError):
        return None
    text = str(exc).lower()
    if not any(word in text for word in ("device", "cuda", "gpu", "tpu", "numpy()", "committed")):
        return None
    return (
        f"device-portability failure on {where}: the test's own code cannot run with its arrays on this "
        f"device ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}). It ran under the framework's "
        "default-device context (each_test_on_every_device); code that moves data to the host or to a "
        "fixed device needs the device passed in."
    )
