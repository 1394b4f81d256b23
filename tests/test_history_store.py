"""The history database with real SQLite files: runs go in whole, two processes appending at once lose
nothing, a file that is not a history (foreign, truncated, newer) is exit 4 naming it and is left as it
was, and a branch's last runs come back as results documents for the gate."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_accel.cli.main import main
from pytest_accel.history.baselines import document_kinds, last_runs
from pytest_accel.history.record import add_document
from pytest_accel.history.store import HistoryError, open_store
from pytest_accel.results.file import assemble_document

MACHINE = {"cpu": "Test CPU", "cpu_count": 2, "frameworks": {}}


def document(
    level: float, created: str, test: str = "t.py::test_a", hardware: str = "Test CPU (2 cores)"
) -> dict:
    result = {
        "nodeid": f"{test}[numpy-cpu-float32]",
        "test": test,
        "framework": "numpy",
        "framework_version": "2",
        "device": "cpu",
        "hardware": hardware,
        "dtype": "float32",
        "outcome": "passed",
        "machine": "m-1",
        "benches": [{"name": "a", "samples": [level * (1 + 0.001 * (i % 3)) for i in range(12)]}],
    }
    made = assemble_document({"m-1": MACHINE}, {"accel": "cpu"}, [result])
    made["created"] = created
    return made


def test_runs_go_in_once_and_come_back_as_documents(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    for day in range(1, 5):
        assert add_document(
            db, document(0.001 * day, f"2026-01-0{day}T00:00:00+00:00"), f"c{day}", "main", "x"
        )
    assert add_document(db, document(0.001, "2026-01-01T00:00:00+00:00"), "c1", "main", "x") is None  # again
    add_document(db, document(0.5, "2026-01-09T00:00:00+00:00"), "p", "feature", "x")
    with open_store(db) as store:
        assert store.branches() == {"main": 4, "feature": 1}
        points = store.points("main")
    assert [p.run.commit for p in points] == ["c1", "c2", "c3", "c4"]
    assert points[0].entry.kind == "Test CPU (2 cores)" and points[0].entry.samples == 12
    assert points[0].entry.low_s <= points[0].entry.median_s <= points[0].entry.high_s
    runs = last_runs(db, "main", 2)
    assert [r["results"][0]["benches"][0]["samples"][0] for r in runs] == [0.003, 0.004]
    assert runs[0]["format"] == "pytest-accel-results" and runs[0]["machines"] == {"m-1": MACHINE}
    gpu = document(0.002, "2026-01-05T00:00:00+00:00", hardware="NVIDIA H200")
    add_document(db, gpu, "c5", "main", "x")
    assert len(last_runs(db, "main", 10, kinds=document_kinds(gpu))) == 1  # never another machine's runs
    assert len(last_runs(db, "main", 10, kinds={"Test CPU (2 cores)"})) == 4


WRITER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from pytest_accel.history.record import add_document
    db, start = Path(sys.argv[1]), int(sys.argv[2])
    for n in range(start, start + 15):
        doc = json.loads(Path(sys.argv[3]).read_text())
        doc["created"] = f"2026-02-01T00:00:{n:02d}+00:00"
        add_document(db, doc, f"commit{n}", "main", "writer")
    """
)


def test_two_processes_appending_at_once_lose_nothing(tmp_path: Path) -> None:
    template = tmp_path / "run.json"
    template.write_text(json.dumps(document(0.001, "x")))
    db = tmp_path / "shared.db"  # neither process finds it: both race to create it too
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(start), str(template)])
        for start in (0, 30)
    ]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0]
    with open_store(db) as store:
        assert store.run_count() == 30
        assert {p.run.commit for p in store.points("main")} == {
            f"commit{n}" for n in (*range(15), *range(30, 45))
        }


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize(
    "damage, words",
    [
        (lambda path: path.write_bytes(path.read_bytes()[:3000]), "damaged or truncated"),
        (lambda path: path.write_bytes(b""), "an empty file"),
        (lambda path: path.write_text("id,time\n1,2\n"), "not an SQLite database"),
    ],
    ids=["truncated", "empty", "text"],
)
def test_a_truncated_or_foreign_file_is_exit_4_and_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage, words: str
) -> None:
    db = tmp_path / "h.db"
    for day in range(1, 8):
        add_document(
            db, document(0.001, f"2026-01-0{day}T00:00:00+00:00", test=f"t.py::test_{day}"), "c", "main", "x"
        )
    damage(db)
    before = db.read_bytes()
    for command in (["check"], ["show"], ["add", str(tmp_path / "none.json")]):
        code, out = _cli(capsys, "history", *command, "--db", str(db))
        assert code == 4 and "Traceback" not in out
    run = tmp_path / "run.json"
    run.write_text(json.dumps(document(0.001, "2026-03-01T00:00:00+00:00")))
    code, out = _cli(capsys, "history", "add", str(run), "--db", str(db))
    assert code == 4 and str(db) in out and words in out, out
    assert db.read_bytes() == before  # never overwritten


def test_another_programs_database_and_a_newer_history_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    foreign = tmp_path / "app.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE users (name TEXT)")
    code, out = _cli(capsys, "history", "check", "--db", str(foreign))
    assert code == 4 and f"history {foreign}: an SQLite database of another program" in out
    newer = tmp_path / "newer.db"
    add_document(newer, document(0.001, "2026-01-01T00:00:00+00:00"), "c", "main", "x")
    with sqlite3.connect(newer) as connection:
        connection.execute("PRAGMA user_version = 99")
    code, out = _cli(capsys, "history", "show", "--db", str(newer))
    assert code == 4 and "schema version 99, written by a newer pytest-accel" in out
    with pytest.raises(HistoryError, match="no such file"):
        open_store(tmp_path / "missing.db")


def test_check_fails_on_a_recent_regression_naming_it_and_its_commits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.db"
    for run in range(12):
        for name in ("steady", "slowed"):
            level = 0.001 * (1.1 if name == "slowed" and run >= 6 else 1.0) * (1 + 0.002 * (run % 3))
            doc = document(level, f"2026-01-{run + 1:02d}T00:00:00+00:00", test=f"t.py::test_{name}")
            doc["created"] += name  # two files per commit, as two CI shards would give
            add_document(db, doc, f"commit{run:02d}", "main", name)
    code, out = _cli(capsys, "history", "check", "--db", str(db))
    assert code == 1, out
    last = out.strip().splitlines()[-1]
    assert last.startswith("history check: FAILED - 1 regression(s)") and "test_slowed" in last
    assert "commit05..commit06 (1 run)" in last and "test_steady" not in last
    code, out = _cli(capsys, "history", "check", "--db", str(db), "--branch", "nope")
    assert code == 4 and "no runs of branch 'nope'; it has: main (24 runs)" in out
    code, out = _cli(capsys, "history", "show", "--db", str(db))
    assert code == 0 and "+10.0% at commit06" in out
    code, out = _cli(capsys, "history", "check", "--db", str(db), "--confirm-runs", "7")
    assert code == 0 and "pending: t.py::test_slowed" in out and "6 of 7 runs" in out, out
    code, out = _cli(capsys, "history", "check", "--db", str(db), "--confirm-runs", "2")
    assert code == 4 and "--confirm-runs 2: give 3 or more" in out


def test_check_warns_when_the_whole_machine_moved_and_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.db"
    for run in range(12):
        for name in ("a", "b", "c"):  # every benchmark 60% slower from run 6 on: a loaded machine
            level = 0.001 * (1.6 if run >= 6 else 1.0) * (1 + 0.002 * (run % 3))
            doc = document(level, f"2026-01-{run + 1:02d}T00:00:00+00:00{name}", test=f"t.py::test_{name}")
            add_document(db, doc, f"commit{run:02d}", "main", name)
    code, out = _cli(capsys, "history", "check", "--db", str(db))
    assert code == 0, out
    assert (
        "warning: the machine moved (Test CPU (2 cores)): 3 benchmark(s)" in out
        and "commit05..commit06" in out
    )
    assert "(machine moved)" in out and "FAILED" not in out
    # asked to judge each benchmark alone, the same history fails: every one of them got 60% slower
    code, out = _cli(capsys, "history", "check", "--db", str(db), "--no-machine-guard")
    assert code == 1, out
    assert "machine moved" not in out and all(f"t.py::test_{name}" in out for name in "abc")
