"""Device faults: out of memory (the test fails, memory is released, the next tests run) and errors that
leave a device unusable (the test fails, and that device's later tests in this process fail fast,
naming the test that broke it, while other devices go on).

Which exception is which is the framework adapter's knowledge (``fault_kind``); what to do about it is
decided here, the same way for every framework.
"""

from __future__ import annotations

import traceback
from dataclasses import asdict, dataclass
from typing import Any

OUT_OF_MEMORY = "out-of-memory"
UNUSABLE = "device-unusable"


@dataclass(frozen=True)
class DeviceFault:
    """One fault, as the summary and the saved file list it; builtin types only."""

    kind: str
    framework: str
    device: str
    nodeid: str
    error: str  # the framework's own first line (what was asked, for out-of-memory; the CUDA error code)
    memory: str  # what the framework tells about free memory afterwards, or ""

    @property
    def message(self) -> str:
        if self.kind == OUT_OF_MEMORY:
            free = f" {self.memory}." if self.memory else ""
            return (
                f"out of memory on {self.framework} {self.device}: {self.error.rstrip('.')}.{free} "
                "pytest-accel released "
                "the memory it could (garbage collection and the framework's cache); the next tests run."
            )
        return (
            f"{self.framework} {self.device} is unusable: {self.error.rstrip('.')}. Every later test on "
            f"{self.framework} {self.device} in this process fails at once; other devices go on. Run the "
            "test alone to debug it (for CUDA, CUDA_LAUNCH_BLOCKING=1 points at the failing kernel)."
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _first_line(exc: BaseException) -> str:
    """The exception's first line, with the CUDA error code torch attached where there is one (torch's
    message says what failed but not the code, which tells whether the device recovers)."""
    from pytest_accel.frameworks.cuda_errors import code_text, error_code

    text = str(exc).strip().splitlines()
    line = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    code = error_code(exc)
    return line if code is None else f"{line} [{code_text(code)}]"


def inspect_failure(
    exc: BaseException, adapter: Any, native: Any, framework: str, device: str, nodeid: str
) -> DeviceFault | None:
    """A DeviceFault when ``exc`` is one (memory is released at once for out-of-memory), else None."""
    kind = adapter.fault_kind(exc, native)  # an unknown CUDA error re-tests the device
    if kind is None:
        return None
    memory = ""
    if kind == OUT_OF_MEMORY:
        # The report is built; the test's frames (and the arrays they hold) can go before releasing.
        traceback.clear_frames(exc.__traceback__)
        adapter.release_memory(native)
        memory = adapter.memory_note(native)
    return DeviceFault(kind, framework, device, nodeid, _first_line(exc), memory)


def unusable_message(fault: dict[str, Any]) -> str:
    """Why a later test on a broken device fails before it starts."""
    return (
        f"{fault['framework']} {fault['device']} is unusable in this process since {fault['nodeid']} broke "
        f"it ({fault['error']}); this test did not run. Other devices go on."
    )


def fault_line(fault: dict[str, Any]) -> str:
    """One line of the summary's list of device faults."""
    memory = f" ({fault['memory']})" if fault.get("memory") else ""
    where = f"{fault['framework']} {fault['device']} in {fault['nodeid']}"
    return f"{fault['kind']}: {where}: {fault['error']}{memory}"
