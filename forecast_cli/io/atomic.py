"""Write outputs so that a crash or kill never leaves a truncated or half-written result.

Files: written to a temporary file in the same directory, flushed, fsynced, then renamed over
the target (rename is atomic within a filesystem). Directories (model bundles): built in a
temporary sibling directory, then swapped into place. Symbolic links: see ``links``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from forecast_cli.errors import OutputError, WriteError
from forecast_cli.io import killpoints


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (and parents) or raise OutputError naming it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{path}: cannot create directory ({exc.strerror}).") from None
    if not path.is_dir():
        raise OutputError(f"{path}: exists and is not a directory.")
    return path


def fsync_dir(path: Path) -> None:
    """Make a rename or a new name in directory ``path`` durable (where the filesystem can)."""
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be opened
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


_KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a directory"),
          (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words: ``os.stat``/``lstat`` mode → "a named pipe"…"""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def check_output(path: Path, inputs: tuple[Path, ...] = ()) -> None:
    """OutputError (73) unless ``path`` is absent or a regular file, and not one of ``inputs``.

    The rename of an atomic write would replace whatever ``path`` is: a device node such as
    ``/dev/null``, a named pipe, or a symbolic link (not the file it points to). forecast writes
    regular files only, and never over the data it reads. A file the user names (``inputs``
    given) is never written inside a model bundle either: an unlisted file there makes the
    bundle refused, a listed one breaks its checksum.
    """
    if inputs and (path.parent / "manifest.json").is_file():
        raise OutputError(f"{path}: is inside a model bundle ({path.parent}); writing there "
                          "would break it. Name a file outside the bundle.")
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(f"{path}: cannot be checked ({exc.strerror}).") from None
    if not stat.S_ISREG(mode):
        raise OutputError(f"{path}: is {kind_of(mode)}, not a regular file; forecast writes "
                          "only regular files. Name a file path instead.")
    for source in inputs:
        with contextlib.suppress(OSError):
            if os.path.samefile(path, source):
                raise OutputError(f"{path}: is the input file {source}; writing there would "
                                  "destroy the data. Name another output file.")


def write_bytes(path: Path, data: bytes, kill_point: str | None = None) -> None:
    """Atomically replace ``path`` with ``data``; OutputError if it is not a regular file.

    ``kill_point`` names a crash-test point (see ``killpoints``) reached after the temporary
    file is complete and fsynced, just before it is renamed over ``path``.
    """
    check_output(path)
    parent = ensure_dir(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise OutputError(f"{path}: cannot create a file in {parent} ({exc.strerror}).") from None
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual mode
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if kill_point is not None:
            killpoints.reached(kill_point)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise WriteError(f"{path}: write failed ({exc.strerror}); previous file kept.") from None
    fsync_dir(parent)


def write_text(path: Path, text: str, kill_point: str | None = None) -> None:
    """Atomically replace ``path`` with UTF-8 ``text``."""
    write_bytes(path, text.encode("utf-8"), kill_point=kill_point)


@contextlib.contextmanager
def staged_dir(target: Path) -> Iterator[Path]:
    """Yield an empty temporary directory beside ``target``; on success swap it into place.

    If the body raises, the temporary directory is removed and ``target`` is untouched. An
    existing ``target`` is moved aside, the new one renamed in, then the old one deleted: at
    every instant either the old or the new complete directory is at ``target`` or aside.
    """
    parent = ensure_dir(target.parent)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent))
    except OSError as exc:
        raise OutputError(f"{target}: cannot create a directory in {parent} "
                          f"({exc.strerror}).") from None
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700
        yield tmp
        fsync_dir(tmp)
        _swap_in(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(parent)


def _swap_in(tmp: Path, target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target}: exists and is not a directory.")
    old = None
    try:
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            shutil.rmtree(old, ignore_errors=True)
            os.rename(target, old)
        os.rename(tmp, target)
    except OSError as exc:
        if old is not None and not target.exists():
            os.rename(old, target)
        raise WriteError(f"{target}: could not publish ({exc.strerror}); "
                         "previous version kept.") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def fsync_tree(root: Path) -> None:
    """fsync every regular file and directory under ``root`` (links are not followed), so a
    directory about to be published by rename holds complete files after a power loss too."""
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        fsync_dir(Path(folder))


DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG)
_ERRNO_IN_TEXT = re.compile(r"errno\s*=\s*(\d+)|\[Errno (\d+)\]")


def disk_error(exc: BaseException) -> str | None:
    """The reason, in words, when ``exc`` or an exception it wraps is a full disk, an exceeded
    quota, a file too large or an I/O error; None for anything else.

    Keras, h5py and tf2onnx do not always raise a bare ``OSError``: some wrap it, or keep only
    its text ("… errno = 28, error message = 'No space left on device' …").
    """
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in DISK_ERRNOS:
            return os.strerror(e.errno)
        text = str(e)
        for match in _ERRNO_IN_TEXT.finditer(text):
            code = int(match.group(1) or match.group(2))
            if code in DISK_ERRNOS:
                return os.strerror(code)
        for code in DISK_ERRNOS:
            if os.strerror(code) in text:
                return os.strerror(code)
        todo += [e.__cause__, e.__context__]
    return None
