"""Exclusive locks that die with their holder: ``fcntl.flock`` on a lock file.

The kernel drops a flock when the process that holds it exits, however it exits (``kill -9``,
OOM, power loss), so a crashed run never leaves a stale lock behind and nothing has to be
cleaned up. The lock file itself stays; its content (pid, start time) is only informative.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from forecast_cli.errors import LockedError, OutputError
from forecast_cli.io.atomic import ensure_dir

POLL_SECONDS = 0.1


def _open(path: Path) -> int:
    ensure_dir(path.parent)
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise OutputError(f"{path}: cannot create lock file ({exc.strerror}).") from None


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(fd: int) -> str:
    with contextlib.suppress(OSError):
        text = os.pread(fd, 200, 0).decode("utf-8", errors="replace").strip()
        if text:
            return f" (held by {text})"
    return ""


def _note_holder(fd: int) -> None:
    note = f"pid {os.getpid()} since {datetime.now(UTC).isoformat(timespec='seconds')}"
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, note.encode(), 0)


WAIT_HINT = "Retry later or pass --wait SECONDS."


@contextlib.contextmanager
def hold(path: Path, what: str, wait: float = 0.0, hint: str = WAIT_HINT) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` for the body.

    ``wait``: seconds to keep trying when another process holds it; 0 fails at once. Raises
    LockedError (exit 75) naming ``what`` and the lock file, then ``hint`` (what to do), when
    the lock cannot be taken in time.
    """
    fd = _open(path)
    try:
        deadline = time.monotonic() + max(0.0, wait)
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise LockedError(f"{what} is locked by another run{_holder(fd)}; "
                                  f"lock file {path}. {hint}")
            time.sleep(POLL_SECONDS)
        _note_holder(fd)
        yield
    finally:
        os.close(fd)  # closing the only descriptor releases the flock
