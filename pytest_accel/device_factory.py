"""Building the ``accel_device`` of an item and of its reference pass, and finding reference values."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from pytest_accel.fixture import (
    ROLE_DEVICE,
    ROLE_ORACLE_PASS,
    ROLE_REFERENCE,
    ROLE_REFERENCE_PASS,
    AccelDevice,
)
from pytest_accel.frameworks import load_adapter
from pytest_accel.options import Settings
from pytest_accel.oracle import oracle_dtype
from pytest_accel.params import AccelParam
from pytest_accel.reference import ReferenceCache, run_reference_pass
from pytest_accel.results import ItemRecord
from pytest_accel.session_state import SessionState

if TYPE_CHECKING:
    from pytest_accel.fixture import RecordedCheck

PARAM_KEY = pytest.StashKey[AccelParam]()


def item_test_key(item: pytest.Item, param: AccelParam) -> str:
    """The item's id without its accel part: the same for the test on every device and dtype."""
    nodeid = item.nodeid
    accel_id = param.id
    for old, new in (
        (f"[{accel_id}]", ""),
        (f"[{accel_id}-", "["),
        (f"-{accel_id}]", "]"),
        (f"-{accel_id}-", "-"),
    ):
        if old in nodeid:
            return nodeid.replace(old, new, 1)
    return nodeid


def make_item_device(item: pytest.Item, param: AccelParam, state: SessionState) -> AccelDevice:
    settings = state.settings
    item.stash[PARAM_KEY] = param
    adapter = load_adapter(param.framework)
    key = item_test_key(item, param)
    record = ItemRecord(
        nodeid=item.nodeid,
        test=key,
        framework=param.framework,
        framework_version=_framework_version(param.framework),
        device=param.device.name,
        hardware=param.device.hardware,
        dtype=param.dtype,
        is_reference=param.is_reference,
        reference_device=_reference_label(param),
        fail_slower=param.options.fail_slower,
    )
    _note_worker(state, param, record, getattr(item.config, "workerinput", None))
    budget = param.options.bench_budget_s or settings.bench_budget_s
    return AccelDevice(
        adapter=adapter,
        info=param.device,
        dtype_name=param.dtype,
        options=param.options,
        test_key=key,
        role=ROLE_REFERENCE if param.is_reference else ROLE_DEVICE,
        record=record,
        bench_budget_s=budget if settings.bench_enabled else None,
        tolerances=settings.tolerances,
        gate_lookup=gate_lookup(state, record, budget),
    )


def _note_worker(
    state: SessionState, param: AccelParam, record: ItemRecord, workerinput: dict[str, Any] | None
) -> None:
    """Under xdist: the worker that ran the item and how many processes timed on its device at once.

    With --accel-pin-workers a device other than the host CPU has all its items on one worker (see
    pinning.py), so its timings are that worker's alone; CPU devices (JAX's among them) share the cores.
    """
    if workerinput is None:
        return
    record.worker = str(workerinput.get("workerid"))
    record.concurrent_workers = int(workerinput.get("workercount", 1))
    if state.settings.pin_workers and param.device.kind != "cpu":
        record.concurrent_workers = 1


def gate_lookup(state: SessionState, record: ItemRecord, budget_s: float) -> Callable[[str], Any] | None:
    """In compare mode: a bench name -> what the gate needs to steer that bench's sampling (or None)."""
    baseline = state.baseline
    if baseline is None:
        return None
    from pytest_accel.gate.comparison import DEFAULT_THRESHOLD
    from pytest_accel.gate.sampling import GateTarget
    from pytest_accel.gate.stats import one_sided_alpha
    from pytest_accel.options import GATE_BUDGET_FACTOR

    settings = state.settings
    threshold = record.fail_slower or settings.fail_slower or DEFAULT_THRESHOLD
    gate_budget = settings.gate_budget_s or GATE_BUDGET_FACTOR * budget_s
    alpha = one_sided_alpha(len(baseline.runs))

    def lookup(bench_name: str) -> GateTarget | None:
        key = (record.test, record.framework, record.device, record.dtype, bench_name)
        run = baseline.runs.get(key)
        if run is None or not run.samples:
            return None
        if run.hardware != record.hardware and not settings.compare_any_hardware:
            return None
        return GateTarget(
            tuple(run.samples), threshold, settings.gate_noise, alpha, max(0.0, gate_budget - budget_s)
        )

    return lookup


def _reference_label(param: AccelParam) -> str:
    """'cpu' for the item's own framework; 'numpy cpu' when the reference is another framework's."""
    if param.reference.framework != param.framework:
        return f"{param.reference.framework} {param.reference.name}"
    return param.reference.name


def _framework_version(framework: str) -> str:
    import importlib

    return str(getattr(importlib.import_module(framework), "__version__", "?"))


def _cache_key(item: pytest.Item, param: AccelParam, kind: str = "reference") -> tuple[Any, ...]:
    # Keyed by the reference's framework: with a cross-framework reference, torch's and jax's items
    # reuse the one numpy reference pass.
    return (item_test_key(item, param), param.reference.framework, param.dtype, param.reference.name, kind)


def _cache(state: SessionState) -> ReferenceCache:
    if state.reference_cache is None:
        state.reference_cache = ReferenceCache()
    return state.reference_cache


def reference_checks_for(item: pytest.Function, state: SessionState) -> list[RecordedCheck]:
    """The reference device's checks for this item: from this process's cache, or a fresh pass."""
    __tracebackhide__ = True
    param = item.stash[PARAM_KEY]
    key = _cache_key(item, param)
    cached = _cache(state).get(key)
    if cached is not None:
        return cached
    reference = AccelDevice(
        adapter=load_adapter(param.reference.framework),
        info=param.reference,
        dtype_name=param.dtype,
        options=param.options,
        test_key=item_test_key(item, param),
        role=ROLE_REFERENCE_PASS,
        record=None,
        bench_budget_s=None,
    )
    checks = run_reference_pass(item, reference)
    _cache(state).put(key, checks)
    return checks


def remember_reference_checks(item: pytest.Function, state: SessionState, device: AccelDevice) -> None:
    """After a reference item passed its body, keep its checks for the other devices' items."""
    param = item.stash[PARAM_KEY]
    from pytest_accel.params import split_reference

    selection = state.registry.state(param.framework).selection
    cross_framework = split_reference(param.options.reference)[0] is not None
    if not cross_framework and (selection is None or len(selection.devices) < 2):
        return  # no other device (or framework) compares with it in this session: nothing would reuse them
    _cache(state).put(_cache_key(item, param), list(device.recorded))


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
        adapter=adapter,
        info=param.reference,
        dtype_name=oracle_dtype(param.dtype),
        options=param.options,
        test_key=item_test_key(item, param),
        role=ROLE_ORACLE_PASS,
        record=None,
        bench_budget_s=None,
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
