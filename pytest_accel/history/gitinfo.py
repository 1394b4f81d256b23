"""Which commit and branch a run measured: given explicitly, from the CI's variables, or from git.

CI systems often check out a detached commit, where git knows no branch; their variables do
(GitHub Actions: ``GITHUB_HEAD_REF`` in a pull request, ``GITHUB_REF_NAME`` on a push). An explicit
value (``--accel-history-commit`` / ``--accel-history-branch`` or their environment variables) wins.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

GIT_TIMEOUT_S = 10


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=folder, capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None  # no git installed, or it hung: the run is recorded without
    text = done.stdout.strip()
    return text if done.returncode == 0 and text else None


def _ci_branch(environ: Mapping[str, str]) -> str | None:
    if environ.get("GITHUB_HEAD_REF"):  # a pull request: its own branch
        return environ["GITHUB_HEAD_REF"]
    if environ.get("GITHUB_REF", "").startswith("refs/heads/"):
        return environ["GITHUB_REF"].removeprefix("refs/heads/")
    return environ.get("CI_COMMIT_BRANCH") or None  # GitLab


def commit_and_branch(
    folder: Path, commit: str | None, branch: str | None, environ: Mapping[str, str]
) -> tuple[str | None, str | None]:
    """The run's commit and branch: the explicit values first, then the CI's, then the checkout's."""
    if commit is None:
        commit = (
            environ.get("GITHUB_SHA") or environ.get("CI_COMMIT_SHA") or _git(folder, "rev-parse", "HEAD")
        )
    if branch is None:
        branch = _ci_branch(environ)
    if branch is None:
        name = _git(folder, "rev-parse", "--abbrev-ref", "HEAD")
        branch = name if name and name != "HEAD" else None  # HEAD: detached, no branch
    return commit, branch
