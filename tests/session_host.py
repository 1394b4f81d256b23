"""pytest sessions run one after another in a host process that keeps its imports: JAX is imported once.

A session that needs JAX's forced CPU devices (``XLA_FLAGS``) or 64-bit mode cannot run in the test's own
process: JAX reads those once, when it starts. In a fresh subprocess, though, importing JAX costs most of
the session (about 2 s of 2.5 s on a 2-core machine). A host is a subprocess started with the environment
a group of sessions shares (the variables read once at start, ``STICKY``); it runs each session
in-process, as ``pytester.runpytest_inprocess`` does, with the session's own environment, folder and
``sys.path``, and with its stdout and stderr (file descriptors 1 and 2) written to files, as a
subprocess's are.

What a session inherits from the ones before it in its host: imported modules (the session's own files,
its tests, conftests and helpers, are imported afresh each time) and JAX's compiled functions, as
in-process pytester runs inherit this process's. Sessions that need a fresh process (what a first import
does, a crash, xdist workers, a conftest that patches the plugin) keep ``runpytest_subprocess``.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import pytest

# Variables a process reads when it starts (JAX's devices and 64-bit mode, CUDA's visible devices, thread
# pools, the interpreter's own settings): sessions that differ in one of them get different hosts. The
# others (COLUMNS, HOME, PYTEST_ADDOPTS, ...) are set for each session; PYTHONPATH goes into sys.path.
STICKY = ("JAX_", "XLA_", "CUDA_", "TPU_", "PJRT_", "TF_", "OMP_", "MKL_", "OPENBLAS_", "TORCH", "PYTORCH_")
STICKY_PYTHON = "PYTHON"  # the interpreter's PYTHON* variables, but for PYTHONPATH
PER_SESSION = ("PYTHONPATH",)


def sticky_part(environment: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The variables a host is started with, which every session in it shares."""
    return tuple(
        sorted(
            (name, value)
            for name, value in environment.items()
            if name.startswith((*STICKY, STICKY_PYTHON)) and name not in PER_SESSION
        )
    )


class SessionHost:
    """One host process: requests go in by one pipe and exit codes come back by another, since file
    descriptors 1 and 2 are the sessions' own."""

    def __init__(self, environment: Mapping[str, str]) -> None:
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        boot = f"import runpy; runpy.run_path({str(Path(__file__))!r}, run_name='__session_host__')"
        # the host's own output between sessions: a traceback if it dies outside a session
        handle, log = tempfile.mkstemp(prefix="session-host-", suffix=".log")
        os.close(handle)
        self.log = Path(log)
        with self.log.open("wb") as stream:
            self.process = subprocess.Popen(
                [sys.executable, "-c", boot, str(request_read), str(reply_write)],
                env=dict(environment),
                stdin=subprocess.DEVNULL,
                stdout=stream,
                stderr=stream,
                pass_fds=(request_read, reply_write),
                cwd=self.log.parent,
            )
        os.close(request_read)
        os.close(reply_write)
        self._requests: IO[str] = os.fdopen(request_write, "w", encoding="utf-8")
        self._replies: IO[str] = os.fdopen(reply_read, "r", encoding="utf-8")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def run(
        self, cwd: Path, args: Sequence[str], environment: Mapping[str, str], stdout: Path, stderr: Path
    ) -> int:
        """The session's exit code; if the session ended the host (os._exit, a crash), the host's."""
        request = {
            "cwd": str(cwd),
            "args": list(args),
            "environment": dict(environment),
            "stdout": str(stdout),
            "stderr": str(stderr),
        }
        try:
            self._requests.write(json.dumps(request) + "\n")
            self._requests.flush()
            reply = self._replies.readline()
        except BrokenPipeError:
            reply = ""
        if not reply:  # the next session gets a fresh host (host_for)
            code = self.process.wait()
            with stderr.open("ab") as err:
                err.write(self.log.read_bytes())
            return code
        return int(json.loads(reply)["ret"])

    def close(self) -> None:
        for stream in (self._requests, self._replies):
            with contextlib.suppress(OSError):
                stream.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.unlink(missing_ok=True)


_HOSTS: dict[tuple[tuple[str, str], ...], SessionHost] = {}


def host_for(environment: Mapping[str, str]) -> SessionHost:
    """This process's host for the environment's sticky variables, started at first use."""
    key = sticky_part(environment)
    host = _HOSTS.get(key)
    if host is None or not host.alive:
        host = _HOSTS[key] = SessionHost(environment)
    return host


@atexit.register
def _close_hosts() -> None:
    while _HOSTS:
        _HOSTS.popitem()[1].close()


def runpytest_hosted(pytester: pytest.Pytester, *args: str | os.PathLike[str]) -> pytest.RunResult:
    """What ``pytester.runpytest_subprocess(*args)`` gives (the same environment, folder, ``--basetemp``
    and output files), from the host for this test's environment."""
    environment = dict(os.environ)
    # as pytester gives it to its subprocesses: the test's folder is importable
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), environment.get("PYTHONPATH")]))
    basetemp = tempfile.mkdtemp(prefix="runpytest-", dir=pytester.path)
    arguments = [f"--basetemp={basetemp}", *map(str, args)]
    stdout, stderr = pytester.path / "stdout", pytester.path / "stderr"
    print("running in a session host:", *arguments)
    print("     in:", Path.cwd())
    started = time.perf_counter()
    ret = host_for(environment).run(Path.cwd(), arguments, environment, stdout, stderr)
    duration = time.perf_counter() - started
    out = stdout.read_text(encoding="utf-8", errors="replace").splitlines()
    err = stderr.read_text(encoding="utf-8", errors="replace").splitlines()
    print("\n".join(out))
    print("\n".join(err), file=sys.stderr)
    return pytest.RunResult(ret, out, err, duration)


# ---- the host's side ---------------------------------------------------------------------------------


def _from_folder(module: Any, folders: tuple[str, ...]) -> bool:
    """Whether a module was loaded from the session's folder: its tests, conftests and helpers."""
    places = [getattr(module, "__file__", None)]
    with contextlib.suppress(Exception):  # lazy modules (torch's) may have odd __path__ objects
        places.extend(getattr(module, "__path__", None) or [])
    return any(isinstance(place, str) and place.startswith(folders) for place in places)


def _run_session(cwd: str, args: list[str], environment: dict[str, str], stdout: str, stderr: str) -> int:
    """One session, as ``python -m pytest ARGS`` in ``cwd`` would run it; then this process as it was, but
    for the modules the session imported from elsewhere (the frameworks, the plugin's), which stay."""
    modules, path, meta_path = dict(sys.modules), list(sys.path), list(sys.meta_path)
    saved_environment, saved_cwd = dict(os.environ), os.getcwd()
    saved_streams = sys.stdout, sys.stderr
    os.environ.clear()
    os.environ.update(environment)
    sys.path[1:1] = [entry for entry in environment.get("PYTHONPATH", "").split(os.pathsep) if entry]
    os.chdir(cwd)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_fds = os.dup(1), os.dup(2)
    try:
        with open(stdout, "wb") as out, open(stderr, "wb") as err:
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            try:
                with warnings.catch_warnings():  # the session's filters go with it
                    ret = int(pytest.main(args))
            except SystemExit as exc:
                ret = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                traceback.print_exc()
                ret = int(pytest.ExitCode.INTERNAL_ERROR)
            finally:
                sys.stdout, sys.stderr = saved_streams
                sys.stdout.flush()
                sys.stderr.flush()
    finally:
        os.dup2(saved_fds[0], 1)
        os.dup2(saved_fds[1], 2)
        os.close(saved_fds[0])
        os.close(saved_fds[1])
        folders = (os.path.join(cwd, ""), os.path.join(os.path.realpath(cwd), ""))
        for name, module in list(sys.modules.items()):
            if name not in modules and _from_folder(module, folders):
                del sys.modules[name]
        sys.path[:], sys.meta_path[:] = path, meta_path
        os.environ.clear()
        os.environ.update(saved_environment)
        os.chdir(saved_cwd)
        gc.collect()
    return ret


def _serve(request_fd: int, reply_fd: int) -> None:
    with open(request_fd, encoding="utf-8") as requests, open(reply_fd, "w", encoding="utf-8") as replies:
        for line in requests:
            ret = _run_session(**json.loads(line))
            replies.write(json.dumps({"ret": ret}) + "\n")
            replies.flush()


if __name__ == "__session_host__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))
