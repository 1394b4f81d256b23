"""``--accel-history`` end to end: one real pytest session appends its run, with the commit and branch
given by the options (as a CI that checks out detached would), and ``history show`` lists it."""

from __future__ import annotations

import pytest

from pytest_accel.history.store import open_store


def test_a_session_appends_its_run_with_commit_and_branch(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_h="""
        import pytest

        @pytest.mark.accel(framework="numpy")
        def test_sum(accel_device):
            accel_device.bench(lambda x: x.sum(), accel_device.randn(64))
        """
    )
    (pytester.path / "junk.db").write_text("not a database")
    refused = pytester.runpytest_subprocess("--accel-history=junk.db")
    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    refused.stderr.fnmatch_lines(["*--accel-history=junk.db: history *junk.db: not an SQLite database*"])
    result = pytester.runpytest_subprocess(
        "--accel-history=h.db", "--accel-history-commit=abc123", "--accel-bench-budget=0.02"
    )
    assert result.ret == 0
    result.stdout.fnmatch_lines(["accel: run added to the history h.db (commit abc123, branch (none))"])
    with open_store(pytester.path / "h.db") as store:
        (point,) = store.points(None)
    assert point.run.commit == "abc123" and point.run.source == "session"
    assert point.entry.test == "test_h.py::test_sum" and point.entry.median_s > 0
