"""The global random generators a test body may draw from without a seed: Python's ``random``, numpy's
legacy ``numpy.random`` and torch's default generator. A suite's tests often draw their inputs there
(``np.random.rand``, ``torch.randn``); the reference pass reruns the body, so unless both runs start from
the same state they compare different inputs, and every device fails parity. Each run of an accel item's
body starts them from one state per test (the same on every device and in the hidden passes). A hidden
pass runs inside the item's body and gives back the state it found, so the body draws on as if it had not
run; the item's own body does not (saving numpy's state costs 90 us, more than the seeding it serves)."""

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


def seed_global_generators(seed: int) -> None:
    """Start the global generators from ``seed``: Python's, numpy's, and torch's where the session uses
    torch (CUDA's too once torch has used it: they draw other numbers than the CPU's for one seed, but
    the same in every run)."""
    random.seed(seed)
    np.random.seed(seed)
    torch: Any = sys.modules.get("torch")
    if torch is not None:
        torch.random.default_generator.manual_seed(seed)
        if torch.cuda.is_initialized():
            torch.cuda.manual_seed_all(seed)


@contextmanager
def global_generators_seeded(seed: int) -> Iterator[None]:
    """Seed the global generators for the block, then put back the states they had before it."""
    torch: Any = sys.modules.get("torch")
    cuda_in_use = torch is not None and torch.cuda.is_initialized()
    saved_python, saved_numpy = random.getstate(), np.random.get_state()
    saved_torch = torch.random.get_rng_state() if torch is not None else None
    saved_cuda = torch.cuda.get_rng_state_all() if cuda_in_use else None
    seed_global_generators(seed)
    try:
        yield
    finally:
        random.setstate(saved_python)
        np.random.set_state(saved_numpy)
        if saved_torch is not None:
            torch.random.set_rng_state(saved_torch)
        if saved_cuda is not None:
            torch.cuda.set_rng_state_all(saved_cuda)
