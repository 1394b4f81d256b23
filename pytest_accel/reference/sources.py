"""Where an item's reference values come from: this process's cache, or a hidden pass of the test body
on the reference device (or in float64, for the oracle), run inside the item."""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Any

import pytest

from pytest_accel.config.options import Settings
from pytest_accel.fixture.accel_device import AccelDevice, item_run
from pytest_accel.fixture.factory import PARAM_KEY, item_test_key
from pytest_accel.fixture.item_run import (
    ROLE_ORACLE_PASS,
    ROLE_REFERENCE_PASS,
    ItemRun,
    RecordedCheck,
)
from pytest_accel.fixture.params import AccelParam
from pytest_accel.frameworks import load_adapter
from pytest_accel.parity.oracle import oracle_dtype
from pytest_accel.reference.hidden_pass import run_reference_pass
from pytest_accel.session.state import SessionState


class ReferenceCache:
    """Reference checks already computed in this process, so each is computed at most once.

    Bounded by the bytes of the host copies it holds; the oldest entries go first.
    """

    def __init__(self, max_bytes: int = 1 << 30) -> None:
        self._entries: OrderedDict[tuple[Any, ...], list[RecordedCheck]] = OrderedDict()
        self._sizes: dict[tuple[Any, ...], int] = {}
        self._max_bytes = max_bytes

    def get(self, key: tuple[Any, ...]) -> list[RecordedCheck] | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: tuple[Any, ...], checks: list[RecordedCheck]) -> None:
        size = sum(
            leaf.values.nbytes for check in checks for leaf in check.leaves.values() if leaf is not None
        )
        if size > self._max_bytes:
            return
        self._entries[key] = checks
        self._sizes[key] = size
        while sum(self._sizes.values()) > self._max_bytes:
            oldest, _ = self._entries.popitem(last=False)
            del self._sizes[oldest]


def _cache_key(item: pytest.Item, param: AccelParam, kind: str = "reference") -> tuple[Any, ...]:
    # Keyed by the reference's framework: with a cross-framework reference, torch's and jax's items
    # reuse the one numpy reference pass.
    return (item_test_key(item, param), param.reference.framework, param.dtype, param.reference.name, kind)


def _cache(state: SessionState) -> ReferenceCache:
    if state.reference_cache is None:
        state.reference_cache = ReferenceCache()
    return state.reference_cache


def reference_checks_for(
    item: pytest.Function, state: SessionState, kind: str = "reference"
) -> list[RecordedCheck]:
    """The reference device's checks for this item: from this process's cache, or a fresh pass. ``kind``
    "rerun" is a second pass of its own, run after a parity failure to tell whether the test's values
    are reproducible at all."""
    __tracebackhide__ = True
    param = item.stash[PARAM_KEY]
    key = _cache_key(item, param, kind)
    cached = _cache(state).get(key)
    if cached is not None:
        return cached
    reference = AccelDevice(
        ItemRun(load_adapter(param.reference.framework), ROLE_REFERENCE_PASS, param.reference.name),
        info=param.reference,
        dtype_name=param.dtype,
        options=param.options,
        test_key=item_test_key(item, param),
    )
    checks = run_reference_pass(item, reference)
    _cache(state).put(key, checks)
    return checks


def remember_reference_checks(item: pytest.Function, state: SessionState, device: AccelDevice) -> None:
    """After a reference item passed its body, keep its checks for the other devices' items."""
    param = item.stash[PARAM_KEY]
    from pytest_accel.fixture.params import split_reference

    selection = state.registry.state(param.framework).selection
    cross_framework = split_reference(param.options.reference)[0] is not None
    if not cross_framework and (selection is None or len(selection.devices) < 2):
        return  # no other device (or framework) compares with it in this session: nothing would reuse them
    _cache(state).put(_cache_key(item, param), list(item_run(device).recorded))


def oracle_enabled(item: pytest.Item, settings: Settings) -> bool:
    """Oracle mode for this item: the marker's ``oracle=`` wins over the option; floats only."""
    param = item.stash[PARAM_KEY]
    wanted = param.options.oracle if param.options.oracle is not None else settings.oracle
    return bool(wanted) and param.dtype.startswith(("float", "bfloat", "complex"))


def oracle_checks_for(item: pytest.Function, state: SessionState) -> list[RecordedCheck]:
    """The checks of the float64 run on the reference device, from inputs rounded to the tested dtype."""
    __tracebackhide__ = True
    param = item.stash[PARAM_KEY]
    key = _cache_key(item, param, kind="oracle")
    cached = _cache(state).get(key)
    if cached is not None:
        return cached
    adapter = load_adapter(param.framework)
    problem = _dtype_problem(adapter, oracle_dtype(param.dtype))
    if problem is not None:  # failed outside the except block: the message is said once, not chained
        pytest.fail(f"oracle mode needs {oracle_dtype(param.dtype)}: {problem}", pytrace=False)
    oracle = AccelDevice(
        ItemRun(adapter, ROLE_ORACLE_PASS, param.reference.name),
        info=param.reference,
        dtype_name=oracle_dtype(param.dtype),
        options=param.options,
        test_key=item_test_key(item, param),
        input_dtype=param.dtype,
    )
    checks = run_reference_pass(item, oracle)
    _cache(state).put(key, checks)
    return checks


def _dtype_problem(adapter: Any, dtype_name: str) -> str | None:
    """Why the framework cannot give ``dtype_name`` (JAX's float64 without x64), or None."""
    try:
        adapter.dtype(dtype_name)
    except ValueError as exc:
        return str(exc)
    return None


def attach_reference_values(item: pytest.Function, state: SessionState, device: AccelDevice) -> None:
    """Before the body: where the item's checks find what they are compared with (the reference pass,
    the float64 oracle). The passes run at the first check that needs them: none for a body that
    makes no check, so adopting a suite whose tests check nothing costs no second run."""
    run = item_run(device)
    if oracle_enabled(item, state.settings):
        run.oracle_source = functools.partial(oracle_checks_for, item, state)
    if not run.is_reference:
        run.expected_source = functools.partial(reference_checks_for, item, state)
        run.rerun_source = functools.partial(reference_checks_for, item, state, "rerun")


def after_body(item: pytest.Function, state: SessionState, device: AccelDevice) -> None:
    """After the body: every check was made; a reference item's checks are kept for the other devices."""
    __tracebackhide__ = True
    run = item_run(device)
    run.verify_all_checks_made(device.name)
    run.finish_body_memory()
    if run.is_reference:
        remember_reference_checks(item, state, device)
    if run.keep_checks:  # --accel-deterministic or the marker's deterministic=True
        from pytest_accel.reference.repeat import check_repeatable

        check_repeatable(item, device)
