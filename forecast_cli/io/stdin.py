"""``-`` as the data file: standard input, spooled to a temporary regular file once.

The readers need a regular file: the CSV scan reads it twice (bytes, then rows), Parquet needs
to seek to its footer, and a command may read its data more than once (``predict --plot``).
So standard input is copied, once per process, to a private temporary file, and every reader
reads that copy; messages name it ``<stdin>``, never the temporary path. The copy is bounded
(``limit``) and removed when the command ends (``remove``, called by the CLI's gate, and at
exit). A FIFO *named as a path* is still refused by the readers: ``-`` is the explicit way to
read a pipe.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from pathlib import Path
from typing import BinaryIO

from forecast_cli.errors import DataError, InputMissingError

STDIN = "-"
LABEL = "<stdin>"
MAX_BYTES = 8 << 30  # never more than this is copied, whatever --max-rows allows
ROW_BYTES = 16 << 20  # the longest CSV row forecast reads (textfile.MAX_LINE_BYTES)
_BLOCK = 1 << 20
_spooled: dict[str, Path] = {}  # "-" → the copy, while the command runs


def is_stdin(path: str | os.PathLike[str]) -> bool:
    """Whether the data path given is ``-`` (standard input)."""
    return os.fspath(path) == STDIN


def label(path: str | os.PathLike[str]) -> str:
    """How messages name ``path``: ``<stdin>`` for the copy of standard input."""
    text = os.fspath(path)
    if text == STDIN or any(str(p) == text for p in _spooled.values()):
        return LABEL
    return text


def limit(max_rows: int) -> int:
    """Bytes accepted on standard input: room for ``max_rows`` rows and a header of the
    longest length a row may have, at most ``MAX_BYTES``."""
    return min(MAX_BYTES, (max_rows + 1) * ROW_BYTES)


def spool(max_rows: int, stream: BinaryIO | None = None) -> Path:
    """The path of the copy of standard input, made on the first call (later calls in the
    same process return it again: standard input can be read only once).

    Raises InputMissingError (66) when standard input is a terminal or closed, DataError (65)
    when it is empty or longer than ``limit(max_rows)``.
    """
    if STDIN in _spooled:
        return _spooled[STDIN]
    import tempfile

    source = stream if stream is not None else _stdin()
    bound = limit(max_rows)
    fd, name = tempfile.mkstemp(prefix="forecast-stdin-", suffix=".data")
    path = Path(name)
    _spooled[STDIN] = path
    atexit.register(remove)
    total = 0
    with os.fdopen(fd, "wb") as out:
        while block := source.read(_BLOCK):
            total += len(block)
            if total > bound:
                remove()
                raise DataError(f"{LABEL}: more than {bound:,} bytes on standard input "
                                "(--max-rows). Fix: write the data to a file and pass its "
                                "path, or raise --max-rows.")
            out.write(block)
    if total == 0:
        remove()
        raise DataError(f"{LABEL}: standard input is empty (0 bytes). Fix: pipe the data in, "
                        "e.g. `forecast validate - < data.csv`.")
    return path


def _stdin() -> BinaryIO:
    stream: BinaryIO | None = getattr(sys.stdin, "buffer", None)
    if stream is None or sys.stdin.closed:
        raise InputMissingError(f"{LABEL}: standard input is closed. Fix: pipe the data in, "
                                "e.g. `forecast validate - < data.csv`, or pass a file path.")
    with contextlib.suppress(OSError, ValueError):
        if os.isatty(sys.stdin.fileno()):
            raise InputMissingError(f"{LABEL}: standard input is a terminal, not data. Fix: "
                                    "pipe the data in, e.g. `forecast validate - < data.csv`, "
                                    "or pass a file path.")
    return stream


def remove() -> None:
    """Delete the copy of standard input, if one was made."""
    path = _spooled.pop(STDIN, None)
    if path is not None:
        with contextlib.suppress(OSError):
            path.unlink()
