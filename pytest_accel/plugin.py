"""pytest hooks of pytest-accel: options, marker, parametrization, fixture, reference pass, summary.

Thin on purpose: each hook hands over to the module that does the work. Nothing here imports a tensor
framework; adapters load when a collected test first needs one.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from pytest_accel.config.marker import MARKER_HELP, read_marker
from pytest_accel.config.options import add_options, read_settings
from pytest_accel.device.registry import DeviceRegistry
from pytest_accel.errors import AccelConfigError
from pytest_accel.session.state import DEVICE_KEY, RECORD_KEY, STATE_KEY, SessionState

FIXTURE_NAME = "accel_device"
COLLECTOR_NAME = "accel-summary"


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
    if settings.compare_path is not None and not getattr(config.option, "help", False):
        state.baseline = _load_baseline(settings.compare_path)
    config.stash[STATE_KEY] = state
    config.pluginmanager.register(SummaryCollector(state), COLLECTOR_NAME)
    from pytest_accel.duet import worker as duet_worker

    if duet_worker.wanted() and not hasattr(config, "workerinput"):
        config.pluginmanager.register(duet_worker.DuetWorker(state), "accel-duet-worker")


def _load_baseline(path: Any) -> Any:
    from pytest_accel.gate.baseline import Baseline
    from pytest_accel.results.file import ResultsFileError

    try:
        return Baseline.load(path)
    except ResultsFileError as exc:
        raise pytest.UsageError(f"--accel-compare: {exc}") from None


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
        # controller, which fails the run with exit code 4 (see SummaryCollector).
        config.workeroutput["accel_absent"] = problems
        config.hook.pytest_deselected(items=list(items))
        items[:] = []
        return
    raise pytest.UsageError(absent_devices_message(problems))


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    lines = _state(config).registry.header_lines()
    return [f"accel: {line}" for line in lines]


@pytest.fixture
def accel_device(request: pytest.FixtureRequest) -> Generator[Any, None, None]:
    """The device, dtype and helpers for one accel item (see pytest_accel's README)."""
    from pytest_accel.fixture.factory import make_item_device

    param = getattr(request, "param", None)
    if param is None:
        raise pytest.UsageError(
            f"{request.node.nodeid} requests accel_device but has no accel parametrization"
        )
    state = _state(request.config)
    device = make_item_device(request.node, param, state)
    request.node.stash[DEVICE_KEY] = device
    request.node.stash[RECORD_KEY] = device.record
    broken = state.broken_devices.get(fault_key(param.framework, param.device.name))
    if broken is not None:
        from pytest_accel.device.faults import unusable_message

        pytest.fail(unusable_message(broken), pytrace=False)
    with device.adapter.made_current(device.native):  # device="cuda", .cuda() in the test mean its device
        yield device


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Any:
    __tracebackhide__ = True  # a failure in a hidden pass shows the user's frames, not this hook's
    device = pyfuncitem.stash.get(DEVICE_KEY, None)
    if device is None:
        return (yield)
    from pytest_accel.reference.sources import after_body, attach_reference_values

    state = _state(pyfuncitem.config)
    attach_reference_values(pyfuncitem, state, device)
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
    if record is not None and (report.when == "call" or (report.when == "setup" and report.failed)):
        record.outcome = _outcome_of(report)
        report.accel = record.to_dict()
    return report


def _note_device_fault(item: pytest.Item, exc: BaseException, report: pytest.TestReport) -> None:
    """Out of memory or a device left unusable: a clear message, the memory released, the device marked."""
    from pytest_accel.device.faults import UNUSABLE, inspect_failure

    device = item.stash[DEVICE_KEY]
    fault = inspect_failure(exc, device.adapter, device.native, device.framework, device.name, item.nodeid)
    if fault is None:
        return
    device.record.fault = fault.to_dict()
    report.sections.append(("accel device fault", fault.message))
    if fault.kind == UNUSABLE:
        _state(item.config).broken_devices[fault_key(fault.framework, fault.device)] = fault.to_dict()


def fault_key(framework: str, device_name: str) -> tuple[str, str]:
    """The one key under which a broken device is noted and looked up: the device the item runs on."""
    return framework, device_name


class SummaryCollector:
    """Per-session plugin object: gathers the records that reports carry and prints the summary.

    Registered per config (not module state), so nested pytest sessions (pytester) stay apart.
    """

    def __init__(self, state: SessionState) -> None:
        self.state = state
        self.absent_on_workers: list[str] = []
        self.handed: dict[str, Any] | None = None
        self.probed = False
        self.header_done = False
        self.worker_header: list[str] = []  # the workers' header lines (with what they left out)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist controller: probe the devices once (in a subprocess) and hand them to every worker."""
        if not self.probed:
            from pytest_accel.device.probe import installed_frameworks, probe_in_subprocess

            self.probed = True
            self.handed, problem = probe_in_subprocess(installed_frameworks())
            if self.handed is not None:
                self.state.registry.handed = self.handed
            else:  # the workers probe for themselves; xdist still checks that they collect alike
                self._write(node.config, f"accel: {problem}; each worker probes its devices itself")
            if self.state.settings.pin_workers:
                self._write(
                    node.config,
                    "accel: --accel-pin-workers: every device but the host CPU runs all its items on one "
                    "worker (the items and verdicts are the serial run's)",
                )
        if self.handed is not None:
            node.workerinput["accel_devices"] = self.handed

    @staticmethod
    def _write(config: pytest.Config, line: str) -> None:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(line)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        """--accel-pin-workers: one worker per device (pinning.py); xdist's own choice otherwise."""
        if not self.state.settings.pin_workers or config.getvalue("dist") == "each":
            return None
        from pytest_accel.parallel.pinning import make_scheduler

        return make_scheduler(config, log)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """The collection header a serial run prints, once, from the first worker's items."""
        if self.header_done:
            return
        self.header_done = True
        from pytest_accel.parallel.pinning import frameworks_in

        registry = DeviceRegistry(self.state.settings.spec, handed=self.handed)
        for framework in frameworks_in(ids):
            registry.state(framework)
        for line in registry.header_lines():
            self._write(node.config, f"accel: {line}")

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report: Any, sched: Any) -> None:
        """xdist: a worker died while running ``crashitem``; its results are lost, and the summary says so."""
        if crashitem not in self.state.lost_items:
            self.state.lost_items.append(crashitem)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        output = getattr(node, "workeroutput", {})
        for problem in output.get("accel_absent", []):
            if problem not in self.absent_on_workers:
                self.absent_on_workers.append(problem)
        for line in output.get("accel_header", []):
            if line not in self.worker_header:
                self.worker_header.append(line)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "accel", None)
        if data is not None:
            self.state.records.append(data)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.absent_on_workers:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        if hasattr(session.config, "workerinput") or self.state.duet_worker:
            return
        from pytest_accel.session.saving import current_document, save_run, stopped_early

        self.notes: list[str] = []
        # Built once: the machine fingerprint behind it may ask nvidia-smi.
        document = current_document(self.state) if self.state.records else None
        if self.state.settings.save_path is not None:
            note, saved = save_run(self.state, session, exitstatus, document)
            self.notes.append(note)
            if not saved:
                self._fail_if_ok(session)  # CI must not pass without its file
        if document is not None and not stopped_early(session, exitstatus):
            from pytest_accel.session.outputs import finish_outputs

            self.gate, notes, ok = finish_outputs(self.state, document)
            self.notes.extend(notes)
            if not ok or (self.gate is not None and self.gate.failed):
                self._fail_if_ok(session)

    def _fail_if_ok(self, session: pytest.Session) -> None:
        if session.exitstatus == pytest.ExitCode.OK and self.state.records:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any, config: pytest.Config) -> None:
        if self.absent_on_workers:
            terminalreporter.write_line("ERROR: " + absent_devices_message(self.absent_on_workers), red=True)
        notes = getattr(self, "notes", [])
        if not self.state.records or hasattr(config, "workerinput"):
            for note in notes:
                terminalreporter.write_line(note)
            return
        from pytest_accel.results.records import ItemRecord
        from pytest_accel.summary.terminal import DEFAULT_WIDTH, render_summary

        records = [ItemRecord.from_dict(data) for data in self.state.records]
        terminalreporter.section("accel")
        lines = self.state.registry.header_lines() or self.worker_header
        width = getattr(terminalreporter, "_tw", None)
        width = getattr(width, "fullwidth", 0) or DEFAULT_WIDTH  # pytest's terminal width ($COLUMNS in CI)
        verbose = config.get_verbosity() > 0
        terminalreporter.write_line(render_summary(records, lines, width=width, verbose=verbose))
        gate = getattr(self, "gate", None)
        if gate is not None:
            from pytest_accel.summary.gate_section import render_gate_section

            terminalreporter.section("accel gate")
            text = render_gate_section(gate, width)
            for line in text.splitlines():
                terminalreporter.write_line(line, red=gate.failed and line.startswith("accel gate"))
        extra = [
            f"accel: an xdist worker crashed while running {lost}: its results are lost (xdist restarted "
            "the worker and ran the remaining tests elsewhere)"
            for lost in self.state.lost_items
        ]
        from pytest_accel.summary.terminal import wrap_lines

        for line in wrap_lines(extra + notes, width):
            terminalreporter.write_line(line, red=line.startswith("accel: an xdist worker crashed"))


def pytest_unconfigure(config: pytest.Config) -> None:
    collector = config.pluginmanager.get_plugin(COLLECTOR_NAME)
    if collector is not None:
        config.pluginmanager.unregister(collector)
