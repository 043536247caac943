"""Check that a file is a readable text CSV in the expected encoding, streaming it once.

The scan decodes every byte (so a wrongly encoded file is refused with the offset and line of
its first bad byte before anything is parsed), keeps the first lines as the ``head`` (for the
delimiter, the header and the sample rows) and measures the longest line, which sizes the
parser's blocks. A line ends at ``\\r\\n``, ``\\r`` (old Mac, Excel for Mac) or ``\\n``, mixed
as they come: line numbers count them all as one line break each, as an editor shows them.
"""

from __future__ import annotations

import codecs
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from forecast_cli.errors import DataError, InputMissingError
from forecast_cli.io.atomic import kind_of
from forecast_cli.loadoptions import check_encoding

BLOCK = 1 << 20
HEAD_BYTES = 64 * 1024  # the head holds at least this much text, in whole lines...
HEAD_LINES = 2  # ...and at least the header line and one data line, however long they are
MAX_LINE_BYTES = 16 << 20  # a longer line is no CSV row: refused, not parsed
_UTF8 = ("utf-8", "utf8", "utf-8-sig", "utf8-sig")
LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class TextFile:
    """A file that passed the byte-level checks."""

    path: Path
    size: int
    encoding: str  # what to open it with ("utf-8-sig" for any UTF-8)
    head: str  # the first whole lines, decoded, byte-order mark removed
    has_quote: bool  # a '"' occurs somewhere: quoted fields may span lines
    longest_line: int = 0  # bytes of the longest line, its line break left out
    label: str = ""  # the file as messages name it ("<stdin>" for -); "" for ``path``

    @property
    def shown(self) -> str:
        return self.label or str(self.path)


def _open_checked(path: Path, shown: str) -> int:
    if not path.exists():
        raise InputMissingError(f"{shown}: file not found.")
    if path.is_dir():
        raise InputMissingError(f"{shown}: is a directory, not a CSV file.")
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise InputMissingError(f"{shown}: cannot read ({exc.strerror}).") from None
    if not stat.S_ISREG(mode):  # opening a FIFO would wait for a writer: a hang under cron
        raise InputMissingError(f"{shown}: is {kind_of(mode)}, not a regular file; forecast "
                                "reads data from regular files only.")
    try:
        size = path.stat().st_size
        with path.open("rb"):
            pass
    except OSError as exc:
        raise InputMissingError(f"{shown}: cannot read ({exc.strerror}).") from None
    if size == 0:
        raise DataError(f"{shown}: file is empty (0 bytes). Fix: export the data again.")
    return size


def _check_head(shown: str, head: bytes, encoding: str) -> None:
    """UTF-16 byte-order marks and NUL bytes mean the file is not UTF-8 text."""
    if encoding.lower().replace("_", "-").startswith(("utf-16", "utf-32", "utf16", "utf32")):
        return
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(f"{shown}: looks like UTF-16 (byte-order mark {head[:2].hex(' ').upper()})"
                        ". Fix: re-save it as UTF-8, or pass --encoding utf-16.")
    if head.startswith(b"PAR1"):  # a whole Parquet file ends with PAR1 too (parquetread)
        raise DataError(f"{shown}: starts like a Parquet file but does not end like one (cut "
                        "short by a copy or an upload?). Fix: write or copy the file again.")
    nul = head.find(b"\x00")
    if nul >= 0:
        raise DataError(f"{shown}: contains a NUL byte at byte offset {nul}; this is not a text "
                        "CSV (a binary or spreadsheet file?). Fix: export it as CSV text.")


def count_breaks(data: bytes, after_cr: bool = False) -> int:
    """Line breaks in ``data``, each of ``\\r\\n``, ``\\r`` and ``\\n`` one; ``after_cr``: the
    bytes before ended with ``\\r`` (a ``\\n`` first completes that break)."""
    n = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    return n - 1 if after_cr and data.startswith(b"\n") else n


@dataclass
class _Lines:
    """Line statistics carried from block to block."""

    breaks: int = 0
    run: int = 0  # bytes of the line still open at the end of the last block
    longest: int = 0
    after_cr: bool = False

    def add(self, block: bytes) -> None:
        codes = np.frombuffer(block, dtype=np.uint8)
        if b"\r" in block:  # CR only, or CRLF: a \r\n is one break (a line of 0 bytes)
            ends = np.flatnonzero((codes == 10) | (codes == 13))
            pairs = int(np.count_nonzero((codes[ends[:-1]] == 13) & (np.diff(ends) == 1)
                                         & (codes[ends[1:]] == 10))) if ends.size > 1 else 0
        else:  # the common case, as fast as counting the \n
            ends, pairs = np.flatnonzero(codes == 10), 0
        # a \n that completes the \r\n begun at the end of the block before is no new break
        self.breaks += ends.size - pairs - int(self.after_cr and block.startswith(b"\n"))
        self.after_cr = block.endswith(b"\r")
        if not ends.size:
            self.run += len(block)
        else:
            inner = int(np.diff(ends).max()) - 1 if ends.size > 1 else 0
            self.longest = max(self.longest, self.run + int(ends[0]), inner)
            self.run = len(block) - int(ends[-1]) - 1
        self.longest = max(self.longest, self.run)


def _head(text: str, final: bool) -> str | None:
    """The head kept from the text decoded so far (``final``: all of it): whole lines, about
    ``HEAD_BYTES`` characters but at least ``HEAD_LINES`` lines; None while more is needed."""
    ends = [m.end() for m, _ in zip(LINE_BREAK.finditer(text), range(HEAD_LINES),
                                    strict=False)]
    if len(ends) < HEAD_LINES:
        return text if final else None
    if len(text) <= HEAD_BYTES:
        return text if final else None
    before = max(text.rfind("\n", 0, HEAD_BYTES), text.rfind("\r", 0, HEAD_BYTES)) + 1
    return text[:max(before, ends[-1])]


def scan_file(path: Path, encoding: str = "utf-8", label: str = "") -> TextFile:
    """Check the whole file decodes in ``encoding``, streaming it block by block.

    Raises InputMissingError (66) when the path cannot be read, DataError (65) for an empty,
    binary or wrongly encoded file, naming the byte offset and line of the first bad byte, or
    for a line longer than ``MAX_LINE_BYTES``; ConfigError (2) for an unknown encoding.
    """
    shown = label or str(path)
    size = _open_checked(path, shown)
    check_encoding(encoding)
    enc = "utf-8-sig" if encoding.lower() in _UTF8 else encoding
    decoder = codecs.getincrementaldecoder(enc)(errors="strict")
    offset, lines, has_quote = 0, _Lines(), False
    head: str | None = None
    start = ""
    with path.open("rb") as fh:
        while block := fh.read(BLOCK):
            if offset == 0:
                _check_head(shown, block[:HEAD_BYTES], enc)
            final = len(block) < BLOCK
            try:
                text = decoder.decode(block, final=final)
            except UnicodeDecodeError as exc:
                line = lines.breaks + count_breaks(block[: exc.start], lines.after_cr) + 1
                raise DataError(
                    f"{shown}, line {line}: not valid {encoding} at byte offset "
                    f"{offset + exc.start} (byte 0x{block[exc.start]:02x}). Fix: re-save the "
                    "file as UTF-8, or pass its encoding, e.g. --encoding latin-1.") from None
            if head is None:
                start += text
                head = _head(start, final)
            has_quote = has_quote or '"' in text
            lines.add(block)
            if lines.run > MAX_LINE_BYTES:  # a line that long is open at some block's end
                raise DataError(f"{shown}, line {lines.breaks + 1}: longer than "
                                f"{MAX_LINE_BYTES >> 20} MiB; this is not a CSV row. Fix: "
                                "check the file is a CSV with one row per line.")
            offset += len(block)
    head = (start if head is None else head).lstrip("\ufeff")
    if "\x00" in head:
        raise DataError(f"{shown}: contains NUL characters; not a text CSV.")
    return TextFile(path, size, enc, head, has_quote, lines.longest, label)
