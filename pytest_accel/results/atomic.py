"""Writing a file in one step: a temporary file beside it, renamed over it, so that a reader (or a later
run) never sees half a file, and an interrupted write leaves the old file as it was.

The temporary file is created with the mode any new file gets (0o666 less the user's umask, as ``open``
gives), not ``tempfile.mkstemp``'s private 0o600, which the rename would keep: a saved baseline or a
report must be readable by whoever reads the user's other files (a CI artifact step, a colleague). A file
being replaced keeps its own mode.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

NEW_FILE_MODE = 0o666  # the kernel takes the umask off, as for any file a program creates
ATTEMPTS = 100


def _create_beside(path: Path) -> tuple[int, Path]:
    """A new, empty file in ``path``'s folder with a name no one else uses, open for writing."""
    folder = path.parent if str(path.parent) else Path(".")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(ATTEMPTS):
        temporary = folder / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(temporary, flags, NEW_FILE_MODE), temporary
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file beside {path}: every name tried was taken")


def _keep_existing_mode(path: Path, temporary: Path) -> None:
    """A file being replaced keeps its permissions (a deliberately private one stays private)."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return  # a new file: the mode it was created with stands
    os.chmod(temporary, mode)


def write_text_atomically(path: Path, text: str) -> None:
    handle, temporary = _create_beside(path)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        _keep_existing_mode(path, temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
