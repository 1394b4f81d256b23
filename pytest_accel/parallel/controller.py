"""The xdist controller's side: devices probed once and handed to every worker, the serial run's header,
worker pinning's scheduler, and what workers report back (absent devices, header lines, crashes).

Registered on every run; its hooks are xdist's, so without ``-n`` none of them is called.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_accel.device.registry import DeviceRegistry
from pytest_accel.session.state import SessionState

PIN_NOTE = (
    "accel: --accel-pin-workers: every device but the host CPU runs all its items on one worker (the "
    "items and verdicts are the serial run's)"
)


class XdistController:
    def __init__(self, state: SessionState) -> None:
        self.state = state
        self.handed: dict[str, Any] | None = None  # the probe's discovery, handed to every worker
        self.probed = False
        self.header_written = False

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """Probe the devices once (in a subprocess, so the controller holds no CUDA context)."""
        if not self.probed:
            from pytest_accel.device.probe import installed_frameworks, probe_in_subprocess

            self.probed = True
            self.handed, problem = probe_in_subprocess(installed_frameworks())
            if self.handed is not None:
                self.state.registry.handed = self.handed
            else:  # the workers probe for themselves; xdist still checks that they collect alike
                write_line(node.config, f"accel: {problem}; each worker probes its devices itself")
            if self.state.settings.pin_workers:
                dist = node.config.getvalue("dist")
                replaced = f"; it replaces --dist={dist}" if dist not in ("load", "no", "each") else ""
                write_line(node.config, PIN_NOTE + replaced)
        if self.handed is not None:
            node.workerinput["accel_devices"] = self.handed

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
        if self.header_written:
            return
        self.header_written = True
        from pytest_accel.parallel.pinning import frameworks_in

        registry = DeviceRegistry(self.state.settings.spec, handed=self.handed)
        for framework in frameworks_in(ids):
            registry.state(framework)
        for line in registry.header_lines():
            write_line(node.config, f"accel: {line}")

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report: Any, sched: Any) -> None:
        """A worker died while running ``crashitem``; its results are lost, and the summary says so."""
        if crashitem not in self.state.lost_items:
            self.state.lost_items.append(crashitem)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        output = getattr(node, "workeroutput", {})
        _extend_unique(self.state.absent_on_workers, output.get("accel_absent", []))
        _extend_unique(self.state.worker_header, output.get("accel_header", []))


def write_line(config: pytest.Config, line: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)


def _extend_unique(kept: list[str], new: list[str]) -> None:
    kept.extend(line for line in new if line not in kept)
