"""The driver side of ``duet``: start one pytest worker per side, alternate them item by item (ABBA).

Both sides stay alive for the whole duet (no start-up cost per round); for every item the two sides
run back to back, in an order that alternates from item to item and round to round, so that the
machine's drift and any advantage of going first hit both sides alike.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pytest_accel.duet.worker import ENV_FDS, ENV_OUT

ANSWER_TIMEOUT_S = 3600.0


class DuetError(RuntimeError):
    """A side could not run (usage error, collection error, crash); the message says which and why."""


@dataclass
class Side:
    """One side of the duet: where its code lives, where its pytest runs and writes, and its process."""

    name: str  # "base" or "new"
    title: str  # shown to the user: "main (1a2b3c4)" or "working tree"
    root: Path
    cwd: Path
    out: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None
    commands: TextIO | None = None
    answers: Any = None
    nodeids: list[str] = field(default_factory=list)
    failed_items: set[str] = field(default_factory=set)


def _environment(side: Side) -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(side.root)]
    if (side.root / "src").is_dir():
        paths.append(str(side.root / "src"))
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env[ENV_OUT] = str(side.out)
    return env


def start(side: Side, pytest_args: list[str]) -> None:
    command_read, command_write = os.pipe()
    answer_read, answer_write = os.pipe()
    env = _environment(side)
    env[ENV_FDS] = f"{command_read},{answer_write}"
    side.out.mkdir(parents=True, exist_ok=True)
    with side.log.open("wb") as log:
        side.process = subprocess.Popen(
            [sys.executable, "-m", "pytest", *pytest_args, "-p", "no:cacheprovider", "-p", "no:xdist"],
            cwd=side.cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            pass_fds=(command_read, answer_write),
        )
    os.close(command_read)
    os.close(answer_write)
    side.commands = os.fdopen(command_write, "w", encoding="utf-8")
    side.answers = os.fdopen(answer_read, "r", encoding="utf-8")


def _receive(side: Side) -> dict[str, Any]:
    assert side.answers is not None
    ready, _, _ = select.select([side.answers], [], [], ANSWER_TIMEOUT_S)
    line = side.answers.readline() if ready else ""
    if not line:
        raise DuetError(f"the {side.name} side stopped answering:\n{tail(side.log)}")
    return json.loads(line)


def _send(side: Side, message: dict[str, Any]) -> None:
    assert side.commands is not None
    try:
        side.commands.write(json.dumps(message) + "\n")
        side.commands.flush()
    except BrokenPipeError:
        raise DuetError(f"the {side.name} side exited early:\n{tail(side.log)}") from None


def tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no output)"
    return "\n".join(text.splitlines()[-lines:])


def wait_ready(side: Side) -> None:
    """The worker reports its collected items; a side that exits first failed before running tests."""
    try:
        message = _receive(side)
    except DuetError:
        try:
            code = side.process.wait(timeout=60) if side.process else None
        except subprocess.TimeoutExpired:
            side.process.kill()
            code = side.process.wait()
        raise DuetError(
            f"pytest on the {side.name} side exited with {code} before running tests:\n{tail(side.log)}"
        ) from None
    if message.get("op") != "ready":
        raise DuetError(f"pytest on the {side.name} side could not collect its tests:\n{tail(side.log)}")
    side.nodeids = list(message["nodeids"])
    _pause(side, True)


def _pause(side: Side, paused: bool) -> None:
    """Stop the idle side entirely (SIGSTOP): its BLAS or OpenMP threads spin-wait after work and would
    otherwise steal the cores from the side being measured."""
    if side.process is not None and side.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(side.process.pid, signal.SIGSTOP if paused else signal.SIGCONT)


def run_item(
    side: Side,
    nodeid: str,
    round_number: int,
    upcoming: str | None = None,
    burst: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run one item on one side; ``upcoming`` is the item this side runs next (its fixtures stay up),
    ``burst`` its benches' short bursts ({name: [batch, samples]}; None: full measurements). Returns
    the side's answer: whether the item failed, and each bench's key, batch and samples."""
    _pause(side, False)
    _send(side, {"op": "run", "nodeid": nodeid, "round": round_number, "next": upcoming, "burst": burst})
    answer = _receive(side)
    _pause(side, True)  # not on the way out of an exception: the side is then stopped for good
    if answer.get("failed"):
        side.failed_items.add(nodeid)
    return answer


def ask_to_quit(side: Side) -> None:
    """Tell the side to save its rounds and exit (it may then take a second to finish its session)."""
    _pause(side, False)
    if side.process is not None and side.commands is not None and not side.commands.closed:
        with contextlib.suppress(DuetError, OSError):
            _send(side, {"op": "quit"})
            side.commands.close()


def stop(side: Side) -> int | None:
    """Ask the side to save its rounds and exit; a side that does not, or an interruption, kills it."""
    if side.process is None:
        return None
    try:
        ask_to_quit(side)
        return side.process.wait(timeout=600)
    except BaseException:
        side.process.kill()
        side.process.wait()
        raise


def stop_all(sides: list[Side]) -> dict[str, int | None]:
    """Every side continued and asked to quit first (they finish their sessions at the same time, none
    stays SIGSTOPped), then each waited for; killed if need be."""
    for side in sides:
        _pause(side, False)
    for side in sides:
        ask_to_quit(side)
    codes: dict[str, int | None] = {}
    try:
        for side in sides:
            codes[side.name] = stop(side)
    finally:
        for side in sides:
            if side.process is not None and side.process.poll() is None:
                side.process.kill()
                side.process.wait()
    return codes


def pair_order(round_number: int, index: int) -> tuple[str, str]:
    """ABBA: which side goes first for the index-th common item of a round; alternates in both."""
    return ("base", "new") if (round_number + index) % 2 == 0 else ("new", "base")


def play_round(
    base: Side,
    new: Side,
    round_number: int,
    common: list[str],
    bursts: dict[str, dict[str, Any]] | None = None,
    alone: list[tuple[Side, str]] = (),  # type: ignore[assignment]
) -> list[tuple[str, str, dict[str, Any], float]]:
    """One round over ``common`` items, the two sides back to back per item in ABBA order, then the
    items only one side has (``alone``). Returns (side, nodeid, answer, seconds) for every item run."""
    sides = {"base": base, "new": new}
    schedule = [
        (sides[name], nodeid)
        for index, nodeid in enumerate(common)
        for name in pair_order(round_number, index)
    ]
    schedule.extend(alone)
    played = []
    for position, (side, nodeid) in enumerate(schedule):
        upcoming = next((n for s, n in schedule[position + 1 :] if s is side), None)
        burst = (bursts or {}).get(nodeid)
        started = time.perf_counter()
        # The same item again next: tear it down fully in between (pytest sets an item up once).
        answer = run_item(side, nodeid, round_number, upcoming if upcoming != nodeid else None, burst)
        played.append((side.name, nodeid, answer, time.perf_counter() - started))
    return played


def round_documents(side: Side, rounds: int) -> list[dict[str, Any]]:
    """Round r's results of this side; a round in which the side measured nothing gives an empty one."""
    from pytest_accel.results.file import load_results

    documents = []
    for number in range(rounds):
        path = side.out / f"round-{number}.json"
        empty = {"results": [], "machines": {}}
        documents.append(load_results(path, role=f"{side.name} round") if path.exists() else empty)
    return documents
