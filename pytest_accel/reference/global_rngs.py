"""The global random generators a test body may draw from without a seed: Python's ``random``, numpy's
legacy ``numpy.random`` and torch's default generator. A suite's tests often draw their inputs there
(``np.random.rand``, ``torch.randn``); the reference pass reruns the body, so unless both runs start from
the same state they compare different inputs, and every device fails parity. Each run of an accel item's
body starts them from one state per test (the same on every device and in the hidden passes), and the
state from before is restored after, so that tests outside the accel items see their usual stream."""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

from pytest_accel.fixture.accel_device import seed_for
from pytest_accel.fixture.factory import PARAM_KEY, item_test_key


def item_body_seed(item: pytest.Item) -> int:
    """The seed of the item's body: from the test's id without its device and dtype, and accel_seed."""
    param = item.stash[PARAM_KEY]
    return seed_for(item_test_key(item, param), param.options.seed) % 2**32


@contextmanager
def global_generators_seeded(seed: int) -> Iterator[None]:
    """Seed the global generators for the block, then put back the states they had before it."""
    torch: Any = sys.modules.get("torch")  # seeded only where the session already uses torch
    saved_python, saved_numpy = random.getstate(), np.random.get_state()
    cuda_in_use = torch is not None and torch.cuda.is_initialized()
    saved_torch = torch.random.get_rng_state() if torch is not None else None
    saved_cuda = torch.cuda.get_rng_state_all() if cuda_in_use else None
    random.seed(seed)
    np.random.seed(seed)
    if torch is not None:
        torch.random.default_generator.manual_seed(seed)
    if cuda_in_use:  # CUDA's generators draw other numbers than the CPU's for one seed, but the same each run
        torch.cuda.manual_seed_all(seed)
    try:
        yield
    finally:
        random.setstate(saved_python)
        np.random.set_state(saved_numpy)
        if saved_torch is not None:
            torch.random.set_rng_state(saved_torch)
        if saved_cuda is not None:
            torch.cuda.set_rng_state_all(saved_cuda)
