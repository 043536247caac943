"""Symbolic links switched atomically: the pointer to a train's latest run, and its names.

A new link is made beside the old name, then renamed over it, so a reader finds the old target
or the new one, never neither. A directory cannot be renamed over; ``dir_to_link`` swaps it with
its link in one step where Linux allows (``renameat2(RENAME_EXCHANGE)``).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import secrets
import shutil
from pathlib import Path

from forecast_cli.errors import WriteError
from forecast_cli.io import killpoints
from forecast_cli.io.atomic import fsync_dir


def _tmp_link(path: Path, target: str) -> Path:
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    os.symlink(target, tmp)
    return tmp


def replace_link(path: Path, target: str, kill_point: str | None = None) -> None:
    """Atomically make ``path`` a symbolic link to ``target`` (relative to its directory).

    Whatever ``path`` was (absent, a link, a regular file) is replaced by one rename; a
    directory cannot be (see ``dir_to_link``). WriteError (74) if the link cannot be made;
    ``path`` is then unchanged. ``kill_point``: reached just before the rename.
    """
    tmp = None
    try:
        tmp = _tmp_link(path, target)
        if kill_point is not None:
            killpoints.reached(kill_point)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise WriteError(f"{path}: could not point it to {target} ({exc.strerror}); "
                         "it is unchanged.") from None
    fsync_dir(path.parent)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing names in one step (Linux ``renameat2(RENAME_EXCHANGE)``).

    False when this system or filesystem cannot (then nothing changed); OSError otherwise.
    """
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(a))


def dir_to_link(path: Path, target: str, kill_point: str | None = None) -> None:
    """Replace the directory ``path`` by a symbolic link to ``target`` whose content is the
    same (the caller checked), then delete the directory.

    With ``renameat2`` the two are swapped in one step, so ``path`` is never missing. Without
    it ``path`` is renamed aside and the link renamed in: a kill between the two leaves no
    ``path`` (and the directory aside, ``.NAME.*.tmp``) until the next run puts the link back.
    """
    tmp = None
    try:
        tmp = _tmp_link(path, target)
        if kill_point is not None:
            killpoints.reached(kill_point)
        if not exchange(tmp, path):
            aside = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
            os.rename(path, aside)
            try:
                os.rename(tmp, path)
            except OSError:
                os.rename(aside, path)
                raise
            tmp = aside
    except OSError as exc:
        if tmp is not None and os.path.islink(tmp):
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise WriteError(f"{path}: could not replace it by a link to {target} "
                         f"({exc.strerror}); it is unchanged.") from None
    fsync_dir(path.parent)
    shutil.rmtree(tmp, ignore_errors=True)  # the directory, now under the temporary name



def resolved(path: Path) -> Path:
    """``path`` with its symbolic links resolved, once.

    A reader opening several files of a directory reached through a link that a concurrent run
    may switch (``OUT/model``) then reads them all from one target, never some from the old run
    and some from the new. A path through no link is returned as given, so messages keep it.
    """
    real = os.path.realpath(path)
    return path if real == os.path.abspath(path) else Path(real)
