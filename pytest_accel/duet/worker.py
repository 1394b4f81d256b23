"""The worker side of ``python -m pytest_accel duet``: one long-lived pytest process per side.

Each side of a duet (the base ref and the working tree) collects its tests once and then runs single
items when the driver says so, so that the driver can alternate the two sides item by item (ABBA...):
a benchmark of the base and the same benchmark of the new code run within a second of each other, and
a slow phase of the machine hits both alike. Commands and answers are JSON lines over two pipes whose
file descriptors the driver passes in ``PYTEST_ACCEL_DUET_FDS``; results go to one file per round.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import pytest

from pytest_accel.fixture.keys import DEVICE_KEY
from pytest_accel.session.state import RECORD_KEY, SessionState

ENV_FDS = "PYTEST_ACCEL_DUET_FDS"  # "command_fd,answer_fd"
ENV_OUT = "PYTEST_ACCEL_DUET_OUT"  # folder for round-N.json files
ROUND_KEY = "duet_round"
LAYOUT_PAD_BYTES = 1 << 17  # the heap pad before each item: up to 128 KiB (glibc's mmap threshold)


def wanted() -> bool:
    return bool(os.environ.get(ENV_FDS)) and bool(os.environ.get(ENV_OUT))


class HeapShifter:
    """Holds blocks of random size on the heap, drawn afresh at each ``shift``.

    Where the allocator places a test's arrays decides some functions' speed (an FFT of 16k points
    ran 2.0 ms or 2.5 ms depending on where its output landed), and one process keeps one placement:
    two processes of the same code then differ by 20% for good, which rounds cannot average out. A
    duet worker shifts before every item, so that what the item allocates lands elsewhere each round,
    each round draws a placement afresh on both sides alike, and the rounds average over them.
    """

    def __init__(self) -> None:
        self._layout = random.Random(os.urandom(16))  # not the global generator: tests seed that one
        self._pad: list[bytearray] = []

    def shift(self) -> None:
        self._pad = []  # the last blocks go first, so that the new ones may take their place
        self._pad = [bytearray(self._layout.randrange(0, size, 16)) for size in (LAYOUT_PAD_BYTES, 4096)]


class DuetWorker:
    """Replaces pytest's run loop: run what the driver asks, tag records with the round, save rounds."""

    def __init__(self, state: SessionState) -> None:
        self.state = state
        state.duet_worker = True  # the driver writes the reports; this side writes only its rounds
        # Taken out of the environment at once: a pytest session started by a test (pytester, a
        # subprocess) must not take the pipes for its own.
        fds, out = os.environ.pop(ENV_FDS), os.environ.pop(ENV_OUT)
        command_fd, answer_fd = (int(part) for part in fds.split(","))
        self.commands = os.fdopen(command_fd, "r", encoding="utf-8")
        self.answers = os.fdopen(answer_fd, "w", encoding="utf-8")
        self.out = Path(out)
        self.heap = HeapShifter()

    def _send(self, message: dict[str, Any]) -> None:
        self.answers.write(json.dumps(message) + "\n")
        self.answers.flush()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        if session.testsfailed:  # collection errors: tell the driver, run nothing
            self._send({"op": "collection-failed", "errors": session.testsfailed})
            return True
        from pytest_accel.duet import burst  # bench's loop and numpy: only in a duet's worker

        items = {item.nodeid: item for item in session.items}
        self._send({"op": "ready", "nodeids": list(items)})
        rounds: set[int] = set()
        for line in self.commands:
            command = json.loads(line)
            if command.get("op") == "save":  # the driver judges the rounds so far
                self._save_rounds(sorted(rounds))
                self._send({"op": "saved"})
                continue
            if command.get("op") != "run":
                break
            item = items[command["nodeid"]]
            before = len(self.state.records)
            failed_before = session.testsfailed
            for key in (DEVICE_KEY, RECORD_KEY):  # nothing of the previous round may be reported again
                if key in item.stash:
                    del item.stash[key]
            upcoming = items.get(command.get("next") or "")
            plan = command.get("burst")
            self.state.duet_burst = burst.lookup(plan) if isinstance(plan, dict) else None
            self.heap.shift()
            try:
                item.config.hook.pytest_runtest_protocol(item=item, nextitem=upcoming)
            finally:
                self.state.duet_burst = None
            benches = []
            for record in self.state.records[before:]:
                record[ROUND_KEY] = command["round"]
                benches.extend(_bench_answer(record))
            rounds.add(command["round"])
            self._send({"op": "done", "failed": session.testsfailed > failed_before, "benches": benches})
            # -x or --maxfail: the driver decides when to stop; every round must be played to be paired
            session.shouldfail = session.shouldstop = False
        self._save_rounds(sorted(rounds))
        return True

    def _save_rounds(self, rounds: list[int]) -> None:
        from pytest_accel.results.file import build_document, save_atomically

        for number in rounds:
            records = [r for r in self.state.records if r.get(ROUND_KEY) == number]
            document = build_document(records, {"duet_round": number})
            save_atomically(self.out / f"round-{number}.json", document)


def _bench_answer(record: dict[str, Any]) -> list[dict[str, Any]]:
    """What the driver needs of each bench at once: its key, batch and samples (the rest is saved)."""
    return [
        {
            "key": [record["test"], record["framework"], record["device"], record["dtype"], bench["name"]],
            "batch": bench.get("calls_per_sample", 1),
            "fail_slower": record.get("fail_slower"),
            "samples": bench.get("samples", []),
        }
        for bench in record.get("benches", [])
    ]
