"""The history database: its schema and every SQL statement, in this one module.

SQLite from the standard library, one file. Nothing else in the package writes SQL, so that a server
database could replace this module later without touching the rest. Each run is one transaction
(``BEGIN IMMEDIATE``, with a busy timeout), so two processes appending at once (two CI jobs on one
runner) wait for each other instead of losing a run. A new file appears whole: it is built beside its
path and linked into place. A file that is not a history of this format (another program's database,
a truncated copy, a newer schema) is refused with ``HistoryError`` and never written to.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1  # PRAGMA user_version: bump when a table changes, and teach open_store the old one
APPLICATION_ID = 0x7061636C  # PRAGMA application_id, "pacl": marks the file as a pytest-accel history
BUSY_TIMEOUT_S = 60.0  # how long a writer waits for another one (a CI job appending beside another)
SQLITE_HEADER = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    run_key TEXT NOT NULL UNIQUE,  -- hash of the results document: the same run imported twice is one run
    created TEXT NOT NULL,         -- when the run happened (the document's 'created'), ISO 8601
    recorded TEXT NOT NULL,        -- when it entered the history
    commit_sha TEXT,
    branch TEXT,
    source TEXT NOT NULL,          -- 'session' (--accel-history) or the imported file's name
    options TEXT NOT NULL,         -- JSON: the run's options
    document BLOB NOT NULL         -- the whole results document, zlib-compressed JSON (every sample)
);
CREATE INDEX runs_by_branch ON runs (branch, created);
CREATE TABLE machines (
    id TEXT PRIMARY KEY,           -- the results file's machine id (a hash of the fingerprint)
    fingerprint TEXT NOT NULL      -- JSON
);
CREATE TABLE benches (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    machine TEXT NOT NULL REFERENCES machines (id),
    kind TEXT NOT NULL,            -- the machine kind: a series never mixes two
    test TEXT NOT NULL,
    framework TEXT NOT NULL,
    framework_version TEXT,
    device TEXT NOT NULL,
    hardware TEXT NOT NULL,
    dtype TEXT NOT NULL,
    bench TEXT NOT NULL,
    outcome TEXT NOT NULL,
    median_s REAL NOT NULL,
    low_s REAL NOT NULL,           -- ~95% interval of the run's level (blocks of its samples)
    high_s REAL NOT NULL,
    samples INTEGER NOT NULL
);
CREATE INDEX benches_by_run ON benches (run_id);
"""


class HistoryError(Exception):
    """The history file cannot be used; the message names it and says what to do."""


@dataclass(frozen=True)
class RunEntry:
    """One run as the history keeps it."""

    run_key: str
    created: str
    recorded: str
    commit: str | None
    branch: str | None
    source: str
    options: dict[str, Any]


@dataclass(frozen=True)
class BenchEntry:
    """One benchmark of one run: what a series is made of."""

    machine: str
    kind: str
    test: str
    framework: str
    framework_version: str | None
    device: str
    hardware: str
    dtype: str
    bench: str
    outcome: str
    median_s: float
    low_s: float
    high_s: float
    samples: int


@dataclass(frozen=True)
class StoredRun:
    """A run read back: its row, without the document."""

    id: int
    created: str
    commit: str | None
    branch: str | None
    source: str


@dataclass(frozen=True)
class BenchPoint:
    """One benchmark of one run, with the run it belongs to: a point of a series."""

    run: StoredRun
    entry: BenchEntry


_BENCH_COLUMNS = (
    "machine, kind, test, framework, framework_version, device, hardware, dtype, bench, outcome, "
    "median_s, low_s, high_s, samples"
)


class HistoryStore:
    """An open history file. Use ``open_store``; close it (or use it in a ``with``) when done."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (BEGIN IMMEDIATE): a second writer waits its turn."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise HistoryError(f"history {self.path}: could not start writing ({exc})") from None
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def append(
        self,
        run: RunEntry,
        machines: dict[str, dict[str, Any]],
        benches: list[BenchEntry],
        document: dict[str, Any],
    ) -> int | None:
        """Add one run in one transaction; returns its id, or None when this very run is already there."""
        blob = zlib.compress(json.dumps(document, separators=(",", ":")).encode(), 6)
        try:
            with self._writing() as db:
                if db.execute("SELECT 1 FROM runs WHERE run_key = ?", (run.run_key,)).fetchone():
                    return None
                cursor = db.execute(
                    "INSERT INTO runs (run_key, created, recorded, commit_sha, branch, source, options, "
                    "document) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        run.run_key,
                        run.created,
                        run.recorded,
                        run.commit,
                        run.branch,
                        run.source,
                        json.dumps(run.options, sort_keys=True),
                        blob,
                    ),
                )
                run_id = int(cursor.lastrowid or 0)
                db.executemany(
                    "INSERT OR IGNORE INTO machines (id, fingerprint) VALUES (?, ?)",
                    [(ident, json.dumps(fp, sort_keys=True)) for ident, fp in machines.items()],
                )
                db.executemany(
                    f"INSERT INTO benches (run_id, {_BENCH_COLUMNS}) VALUES ({', '.join('?' * 15)})",
                    [(run_id, *_bench_values(entry)) for entry in benches],
                )
                return run_id
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"history {self.path}: could not add the run ({exc})") from None

    def branches(self) -> dict[str, int]:
        """Every branch with its number of runs (runs without a branch under '')."""
        rows = self._read("SELECT COALESCE(branch, ''), COUNT(*) FROM runs GROUP BY 1 ORDER BY 2 DESC")
        return {str(name): int(count) for name, count in rows}

    def run_count(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM runs")[0][0])

    def points(self, branch: str | None) -> list[BenchPoint]:
        """Every benchmark of every run of ``branch`` (None: all runs), in the order the runs happened."""
        where, params = ("WHERE r.branch = ?", (branch,)) if branch is not None else ("", ())
        columns = ", ".join(f"b.{name.strip()}" for name in _BENCH_COLUMNS.split(","))
        rows = self._read(
            f"SELECT r.id, r.created, r.commit_sha, r.branch, r.source, {columns} FROM benches b "
            f"JOIN runs r ON r.id = b.run_id {where} ORDER BY r.created, r.id",
            params,
        )
        return [
            BenchPoint(StoredRun(row[0], row[1], row[2], row[3], row[4]), BenchEntry(*row[5:]))
            for row in rows
        ]

    def runs(self, branch: str | None) -> list[StoredRun]:
        where, params = ("WHERE branch = ?", (branch,)) if branch is not None else ("", ())
        rows = self._read(
            f"SELECT id, created, commit_sha, branch, source FROM runs {where} ORDER BY created, id", params
        )
        return [StoredRun(*row) for row in rows]

    def kinds_of_runs(self, run_ids: list[int]) -> dict[int, set[str]]:
        """The machine kinds each run measured on."""
        found: dict[int, set[str]] = {run_id: set() for run_id in run_ids}
        for run_id, kind in self._read("SELECT DISTINCT run_id, kind FROM benches"):
            if run_id in found:
                found[run_id].add(kind)
        return found

    def document(self, run_id: int) -> dict[str, Any]:
        """A run's results document, as it was recorded."""
        rows = self._read("SELECT document FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise HistoryError(f"history {self.path}: no run {run_id}")
        try:
            document = json.loads(zlib.decompress(rows[0][0]))
        except (zlib.error, ValueError, TypeError) as exc:
            raise HistoryError(f"history {self.path}: run {run_id} is damaged ({exc})") from None
        if not isinstance(document, dict):
            raise HistoryError(f"history {self.path}: run {run_id} is damaged (not a results document)")
        return document

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"history {self.path}: cannot read it ({exc}); it is damaged") from None


def _bench_values(entry: BenchEntry) -> tuple[Any, ...]:
    return tuple(getattr(entry, name.strip()) for name in _BENCH_COLUMNS.split(","))


def open_store(path: Path, create: bool = False) -> HistoryStore:
    """Open the history at ``path``, checked whole; ``create``: make a new one if there is no file."""
    if not path.exists():
        if not create:
            raise HistoryError(
                f"history {path}: no such file; record runs into it with --accel-history={path} or "
                f"python -m pytest_accel history add RESULTS.json --db {path}"
            )
        _create(path)
    return HistoryStore(_connect_checked(path), path)


def check_database(path: Path) -> None:
    """Fail now, before a session's work, when ``path`` exists but is not a usable history file."""
    if path.exists():
        open_store(path).close()
    else:
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise HistoryError(f"history {path}: the folder {folder} does not exist; create it first")


def _connect(path: Path) -> sqlite3.Connection:
    # mode=rw: never create a file here (a missing one is _create's job); autocommit, explicit BEGINs.
    uri = path.resolve().as_uri() + "?mode=rw"
    connection = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    connection.execute("PRAGMA foreign_keys = ON")
    return connection


def _connect_checked(path: Path) -> sqlite3.Connection:
    """A connection to a file shown to be a whole history of a version this code reads."""
    where = f"history {path}"
    if path.is_dir():
        raise HistoryError(f"{where}: that is a folder; name a file such as history.db")
    try:
        with open(path, "rb") as stream:
            header = stream.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise HistoryError(f"{where}: cannot read it ({exc})") from None
    if not header.startswith(SQLITE_HEADER):
        what = "an empty file" if not header else "not an SQLite database"
        raise HistoryError(
            f"{where}: {what}, so not a pytest-accel history (truncated, or another file); it is left as "
            "it is: move it away, or name another file"
        )
    try:
        connection = _connect(path)
    except sqlite3.Error as exc:
        raise HistoryError(f"{where}: cannot open it ({exc})") from None
    try:
        _check_identity(connection, where)
        problems = [row[0] for row in connection.execute("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:
            raise HistoryError(f"{where}: the database is damaged ({'; '.join(map(str, problems[:3]))})")
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise HistoryError(
            f"{where}: the database is damaged or truncated ({exc}); it is left as it is: restore it from "
            "a copy, or rebuild it with 'history add' from saved results files"
        ) from None
    except HistoryError:
        connection.close()
        raise
    return connection


def _check_identity(connection: sqlite3.Connection, where: str) -> None:
    application = connection.execute("PRAGMA application_id").fetchone()[0]
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if application != APPLICATION_ID:
        raise HistoryError(
            f"{where}: an SQLite database of another program, not a pytest-accel history; it is left as "
            "it is: name another file"
        )
    if version > SCHEMA_VERSION:
        raise HistoryError(
            f"{where}: history schema version {version}, written by a newer pytest-accel; this one reads "
            f"version {SCHEMA_VERSION}. Upgrade pytest-accel."
        )
    if version != SCHEMA_VERSION:
        raise HistoryError(f"{where}: history schema version {version} is not one this pytest-accel reads")


def _create(path: Path) -> None:
    """Build an empty history beside ``path`` and link it into place: the file appears whole, and when
    another process made one first, theirs stands."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise HistoryError(f"history {path}: the folder {folder} does not exist; create it first")
    temporary = folder / f".{path.name}.{secrets.token_hex(6)}.new"
    try:
        connection = sqlite3.connect(temporary, isolation_level=None)
        try:
            connection.executescript(
                f"BEGIN; {_SCHEMA} PRAGMA application_id = {APPLICATION_ID}; "
                f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            )
        finally:
            connection.close()
        _link_into_place(temporary, path)
    except (OSError, sqlite3.Error) as exc:
        raise HistoryError(f"history {path}: cannot create it ({exc})") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def _link_into_place(temporary: Path, path: Path) -> None:
    """A hard link never replaces a file: when another process made the history first, theirs stands.
    (SQLite made the file with the mode any new file gets: 0644 under the usual umask.)"""
    try:
        os.link(temporary, path)
    except FileExistsError:
        return
    except OSError:  # a filesystem without hard links: a rename, unless the file appeared meanwhile
        if not path.exists():
            os.replace(temporary, path)
