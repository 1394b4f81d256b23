"""pytest hooks of pytest-accel: options, marker, parametrization, fixture, reference pass, summary.

Thin on purpose: each hook hands over to the module that does the work. Nothing here imports a tensor
framework; adapters load when a collected test first needs one.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_accel.config.marker import MARKER_HELP, read_marker
from pytest_accel.config.options import add_options, read_settings
from pytest_accel.device.registry import DeviceRegistry
from pytest_accel.errors import AccelConfigError
from pytest_accel.fixture.keys import DEVICE_KEY
from pytest_accel.session.finish import SessionEnd, finish_session
from pytest_accel.session.state import RECORD_KEY, STATE_KEY, SessionState

if TYPE_CHECKING:
    from pytest_accel.fixture.accel_device import AccelDevice

FIXTURE_NAME = "accel_device"
COLLECTOR_NAME = "accel-summary"
CONTROLLER_NAME = "accel-xdist-controller"
ADOPTION_NAME = "accel-adoption"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    try:
        settings = read_settings(config)
    except AccelConfigError as exc:
        if getattr(config.option, "help", False):
            return  # `pytest --help` must work even with a bad setting; the run itself reports it
        raise pytest.UsageError(str(exc)) from None
    state = SessionState(settings, DeviceRegistry(settings.spec))
    handed = getattr(config, "workerinput", {}).get("accel_devices")
    if handed is not None:
        state.registry.handed = handed  # an xdist worker: the controller decided the devices
    if settings.compare is not None and not getattr(config.option, "help", False):
        state.baseline = _load_baseline(settings.compare, settings.history_branch)
    config.stash[STATE_KEY] = state
    config.pluginmanager.register(SessionCollector(state), COLLECTOR_NAME)
    from pytest_accel.adoption.hooks import AdoptionHooks

    config.pluginmanager.register(AdoptionHooks(state), ADOPTION_NAME)
    if not hasattr(config, "workerinput"):
        from pytest_accel.parallel.controller import XdistController

        config.pluginmanager.register(XdistController(state), CONTROLLER_NAME)
    from pytest_accel.duet import worker as duet_worker

    if duet_worker.wanted() and not hasattr(config, "workerinput"):
        config.pluginmanager.register(duet_worker.DuetWorker(state), "accel-duet-worker")


def _load_baseline(source: Any, branch: str | None) -> Any:
    """Files or the history's last runs, loaded once: a bad or empty baseline stops the run before it."""
    from pytest_accel.gate.sources import BaselineError, load_baseline

    try:
        return load_baseline(source, branch)
    except BaselineError as exc:
        raise pytest.UsageError(f"--accel-compare={source}: {exc}") from None


def _state(config: pytest.Config) -> SessionState:
    return config.stash[STATE_KEY]


def _parametrizes_fixture_itself(metafunc: pytest.Metafunc) -> bool:
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", "")
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",")]
        if FIXTURE_NAME in names:
            return True
    return False


def _merged_marker(definition: pytest.Function) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
    """The accel markers of a test merged: function over class over module, key by key."""
    markers = list(definition.iter_markers("accel"))  # closest first
    if not markers:
        return None
    kwargs: dict[str, Any] = {}
    for marker in reversed(markers):
        kwargs.update(marker.kwargs)
    return tuple(arg for marker in markers for arg in marker.args), kwargs


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    merged = _merged_marker(metafunc.definition)
    uses_fixture = FIXTURE_NAME in metafunc.fixturenames
    if merged is None and not uses_fixture:
        return
    if _parametrizes_fixture_itself(metafunc):
        return
    state = _state(metafunc.config)
    name = metafunc.definition.nodeid
    if not uses_fixture:
        own = any(m.name == "accel" for m in metafunc.definition.own_markers)
        if not own:
            return  # a plain test in a module or class marked accel: not an accel test
        raise pytest.Collector.CollectError(
            f"{name} is marked accel but does not request the accel_device fixture: add "
            "accel_device to its arguments"
        )
    from pytest_accel.fixture.params import build_params

    args, kwargs = merged if merged is not None else ((), {})
    try:
        options = read_marker(
            args,
            kwargs,
            default_frameworks=state.settings.default_framework,
            default_dtypes=state.settings.default_dtypes,
            default_reference=state.settings.reference,
            default_seed=state.settings.seed,
            test_name=name,
        )
        params = build_params(options, state.registry, name)
    except AccelConfigError as exc:
        raise pytest.Collector.CollectError(str(exc)) from None
    metafunc.parametrize(FIXTURE_NAME, params, indirect=True, scope="function")


def absent_devices_message(problems: list[str]) -> str:
    return (
        "pytest-accel: requested devices are not present, so these tests cannot run where "
        "asked (a missing device is an error, never a skip):\n  "
        + "\n  ".join(problems)
        + "\nUse --accel=all to run on whatever devices are present."
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    registry = _state(config).registry
    if hasattr(config, "workerinput"):
        config.workeroutput["accel_header"] = registry.header_lines()  # the controller's summary shows it
    problems = registry.absent_requests() + registry.unmatched_requests()
    if not problems:
        return
    if hasattr(config, "workerinput"):
        # An xdist worker cannot end the session with a usage error: it runs nothing and tells the
        # controller, which fails the run with exit code 4 (see SessionCollector).
        config.workeroutput["accel_absent"] = problems
        config.hook.pytest_deselected(items=list(items))
        items[:] = []
        return
    raise pytest.UsageError(absent_devices_message(problems))


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    """The devices found (and the kinds asked for but absent), fitted to the terminal as the summary is."""
    lines = [f"accel: {line}" for line in _state(config).registry.header_lines()]
    if not lines:
        return []  # no accel test: the summary's modules (and numpy) stay unloaded
    from pytest_accel.summary.notes import wrap_lines

    return wrap_lines(lines, config.get_terminal_writer().fullwidth)


@pytest.fixture
def accel_device(request: pytest.FixtureRequest) -> Generator[AccelDevice, None, None]:
    """The device, dtype and helpers for one accel item (see pytest_accel's README)."""
    from pytest_accel.fixture.accel_device import item_run
    from pytest_accel.fixture.factory import make_item_device

    param = getattr(request, "param", None)
    if param is None:
        raise pytest.UsageError(
            f"{request.node.nodeid} requests accel_device but has no accel parametrization"
        )
    state = _state(request.config)
    device = make_item_device(request.node, param, state)
    run = item_run(device)
    request.node.stash[DEVICE_KEY] = device
    if run.record is not None:
        request.node.stash[RECORD_KEY] = run.record
    broken = state.broken_devices.get(fault_key(param.framework, param.device.name))
    if broken is not None:
        from pytest_accel.device.faults import unusable_message

        pytest.fail(unusable_message(broken), pytrace=False)
    with run.adapter.made_current(device.native):  # device="cuda", .cuda() in the test mean its device
        yield device


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Any:
    __tracebackhide__ = True  # a failure in a hidden pass shows the user's frames, not this hook's
    device = pyfuncitem.stash.get(DEVICE_KEY, None)
    if device is None:
        return (yield)
    from pytest_accel.adoption.benchmark import time_benchmark_calls_on_the_device
    from pytest_accel.fixture.accel_device import running
    from pytest_accel.reference.global_rngs import item_body_seed, seed_global_generators
    from pytest_accel.reference.sources import after_body, attach_reference_values

    state = _state(pyfuncitem.config)
    attach_reference_values(pyfuncitem, state, device)
    seed_global_generators(item_body_seed(pyfuncitem))  # unseeded draws: the same on every device
    with running(device), time_benchmark_calls_on_the_device(pyfuncitem.funcargs):
        result = yield
    after_body(pyfuncitem, state, device)
    return result


def _outcome_of(report: pytest.TestReport) -> str:
    """passed, failed, skipped, error (setup failed), xfailed or xpassed: what a gate must tell apart."""
    if report.when == "setup" and report.failed:
        return "error"
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    return report.outcome


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    record = item.stash.get(RECORD_KEY, None)
    if record is not None and call.excinfo is not None and report.failed and record.fault is None:
        _note_device_fault(item, call.excinfo.value, report)
    if record is not None and report.when == "call":
        record.call_s = _body_seconds(item, report)
    if record is not None and (report.when == "call" or (report.when == "setup" and report.failed)):
        record.outcome = _outcome_of(report)
        report.accel = record.to_dict()
    return report


def _body_seconds(item: pytest.Item, report: pytest.TestReport) -> float:
    """The call's duration without the hidden passes that ran inside it: the body on this device."""
    from pytest_accel.fixture.accel_device import item_run

    hidden = item_run(item.stash[DEVICE_KEY]).hidden_s if DEVICE_KEY in item.stash else 0.0
    return max(0.0, report.duration - hidden)


def _note_device_fault(item: pytest.Item, exc: BaseException, report: pytest.TestReport) -> None:
    """Out of memory or a device left unusable: a clear message, the memory released, the device marked."""
    from pytest_accel.device.faults import UNUSABLE, inspect_failure
    from pytest_accel.fixture.accel_device import item_run

    device = item.stash[DEVICE_KEY]
    adapter = item_run(device).adapter
    fault = inspect_failure(exc, adapter, device.native, device.framework, device.name, item.nodeid)
    if fault is None:
        return
    item.stash[RECORD_KEY].fault = fault.to_dict()
    report.sections.append(("accel device fault", fault.message))
    if fault.kind == UNUSABLE:
        _state(item.config).broken_devices[fault_key(fault.framework, fault.device)] = fault.to_dict()


def fault_key(framework: str, device_name: str) -> tuple[str, str]:
    """The one key under which a broken device is noted and looked up: the device the item runs on."""
    return framework, device_name


class SessionCollector:
    """Per-session plugin object: gathers the records that reports carry, ends the session, shows it.

    Registered per config (not module state), so nested pytest sessions (pytester) stay apart.
    """

    def __init__(self, state: SessionState) -> None:
        self.state = state
        self.end: SessionEnd | None = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "accel", None)
        if data is not None:
            self.state.records.append(data)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.state.absent_on_workers:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        if hasattr(session.config, "workerinput") or self.state.duet_worker:
            return
        self.end = finish_session(self.state, session, exitstatus)
        if self.end.run_fails and session.exitstatus == pytest.ExitCode.OK and self.state.records:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any, config: pytest.Config) -> None:
        if self.state.absent_on_workers:
            message = absent_devices_message(self.state.absent_on_workers)
            terminalreporter.write_line("ERROR: " + message, red=True)
        if hasattr(config, "workerinput"):
            return
        if self.state.duet_worker:
            return  # the driver reports the duet; a summary of every round cost each side a second
        state, end = self.state, self.end
        if not state.records and not state.lost_items and (end is None or not end.notes):
            return  # no accel test ran: nothing to show, and the summary's modules stay unloaded
        from pytest_accel.summary.session_section import write_accel_sections

        write_accel_sections(
            terminalreporter,
            config,
            state.records,
            state.registry.header_lines() or state.worker_header,
            end.notes if end is not None else [],
            end.gate if end is not None else None,
            state.lost_items,
            state.settings.summary_mode,
        )


def pytest_unconfigure(config: pytest.Config) -> None:
    for name in (COLLECTOR_NAME, CONTROLLER_NAME, ADOPTION_NAME):
        plugin = config.pluginmanager.get_plugin(name)
        if plugin is not None:
            config.pluginmanager.unregister(plugin)
