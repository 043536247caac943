"""Read a CSV file as text cells, chunk by chunk, keeping each row's original line number.

This module only reads: once ``textfile.scan_file`` has checked that the file is a readable
text CSV in the expected encoding, it finds the delimiter, reads and normalises the header, and
yields string cells of the wanted columns. Nothing is converted here (see ``convert``); rows
whose field count differs from the header's are reported to the ``Findings`` with their line
numbers (header = line 1).

The rows are parsed by pyarrow's streaming CSV reader: unlike pandas' C parser it reports a
row with too *few* fields (pandas pads it silently) with its line and text, and it holds
strings compactly, one block at a time, so memory stays near the size of the numbers kept.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forecast_cli.errors import DataError
from forecast_cli.io.findings import MAX_SHOWN, Findings
from forecast_cli.io.textfile import LINE_BREAK, MAX_LINE_BYTES
from forecast_cli.io.textfile import TextFile as TextFile
from forecast_cli.io.textfile import scan_file as scan_file
from forecast_cli.loadoptions import TAB_NAMES

BLOCK_BYTES = 1 << 20  # parser block: bounds the strings held at once
SEPARATORS = (",", ";", "\t", "|")


def head_rows(tf: TextFile, sep: str) -> Iterator[list[str]]:
    """The rows of the file's head (header first), whatever its line endings."""
    if csv.field_size_limit() < MAX_LINE_BYTES:  # 128 KiB by default; a line may be longer
        csv.field_size_limit(MAX_LINE_BYTES)
    return csv.reader(io.StringIO(tf.head, newline=""), delimiter=sep)


def sniff_sep(tf: TextFile, sep: str | None) -> str:
    """The given ``sep``, or the candidate occurring most often in the header line."""
    if sep is not None:
        return "\t" if sep in TAB_NAMES else sep
    header = LINE_BREAK.split(tf.head, maxsplit=1)[0]
    counts = {c: header.count(c) for c in SEPARATORS}
    best = max(counts, key=lambda c: counts[c])
    return best if counts[best] else ","


def read_header(tf: TextFile, sep: str, findings: Findings) -> list[str]:
    """Column names, stripped of surrounding spaces (a recorded fix); duplicates are fatal."""
    header = next(head_rows(tf, sep), [])
    names = [h.strip() for h in header]
    changed = [f"{raw!r} → {name!r}" for raw, name in zip(header, names, strict=True)
               if raw != name]
    if changed:
        findings.applied("stripped spaces around column names: " + ", ".join(changed))
    twice = [n for n, count in Counter(names).items() if count > 1]
    if twice:
        listed = "; ".join(f"{n!r} (columns "
                           f"{', '.join(str(i + 1) for i, m in enumerate(names) if m == n)})"
                           for n in twice)
        raise DataError(f"{tf.shown}, line 1: duplicate column {listed}. Fix: rename the "
                        "columns so that each name is unique; pandas would silently rename "
                        f"the second to {twice[0] + '.1'!r}.")
    if not names or any(not n for n in names):
        raise DataError(f"{tf.shown}, line 1: a column has an empty name. Fix: give every "
                        "column a name in the header line.")
    return names


@dataclass(frozen=True)
class Chunk:
    """A batch of rows: cells of the wanted columns as object arrays of str."""

    lines: np.ndarray  # (m,) int64 line number of each row
    cells: dict[str, Any]  # column → (m,) pyarrow string array
    short: np.ndarray  # (m,) bool: the row had fewer fields than the header (--allow-missing)


@dataclass
class _Invalid:
    """Rows the parser refused because their field count differs from the header's."""

    rows: list[tuple[int, int, str]] = field(default_factory=list)  # (line, fields, text)

    def handler(self, row: Any) -> str:
        self.rows.append((int(row.number or 0), int(row.actual_columns), str(row.text)))
        return "skip"


def block_size(tf: TextFile) -> int:
    """Parser block in bytes: ``BLOCK_BYTES``, or room for four of the longest line (a row
    must fit in one block, and recoding latin-1 to UTF-8 can double it)."""
    return max(BLOCK_BYTES, 4 * tf.longest_line + 4096)


def _open(tf: TextFile, sep: str, names: list[str], wanted: list[str], invalid: _Invalid) -> Any:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    encoding = "utf8" if tf.encoding == "utf-8-sig" else tf.encoding
    return pacsv.open_csv(
        tf.path,
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=False,
                                       block_size=block_size(tf), encoding=encoding),
        parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=tf.has_quote,
                                         ignore_empty_lines=False,
                                         invalid_row_handler=invalid.handler),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, include_columns=wanted,
            strings_can_be_null=False, quoted_strings_can_be_null=False, null_values=[]))


def _newlines(cells: dict[str, np.ndarray]) -> np.ndarray:
    """Line breaks (\\r\\n, \\r or \\n) inside quoted cells of each row. (m,) int64."""
    m = len(next(iter(cells.values())))
    extra = np.zeros(m, dtype=np.int64)
    for col in cells.values():
        extra += pd.Series(col, dtype=object).str.count(LINE_BREAK.pattern).to_numpy(np.int64)
    return extra


def read_chunks(tf: TextFile, sep: str, names: list[str], wanted: list[str],
                findings: Findings, max_rows: int, allow_missing: bool) -> Iterator[Chunk]:
    """Yield the wanted columns as strings, batch by batch, with the rows' line numbers.

    Rows with too many fields are errors; rows with too few are errors unless
    ``allow_missing``, when their absent cells are yielded as "" (missing values).
    """
    invalid = _Invalid()
    try:
        # quoted cells may span lines: read every column to count their newlines
        reader = _open(tf, sep, names, names if tf.has_quote else wanted, invalid)
    except Exception as exc:  # pyarrow raises its own ArrowInvalid on a malformed first block
        raise DataError(f"{tf.shown}: malformed CSV ({exc}).") from None
    try:  # closed however the reading ends: no read-ahead left running behind an error
        yield from _batches(reader, tf, names, wanted, invalid, max_rows)
    finally:
        with contextlib.suppress(Exception):
            reader.close()
    yield from _invalid_rows(invalid, tf, sep, names, wanted, findings, allow_missing)


def _batches(reader: Any, tf: TextFile, names: list[str], wanted: list[str],
             invalid: _Invalid, max_rows: int) -> Iterator[Chunk]:
    """The reader's record batches as Chunks, with the rows' line numbers."""
    next_rec, newlines, total = 2, 0, 0
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except Exception as exc:
            raise DataError(f"{tf.shown}: malformed CSV after line {next_rec + newlines} "
                            f"({exc}).") from None
        total += batch.num_rows
        if total > max_rows:
            raise DataError(f"{tf.shown}: more than {max_rows} data rows (--max-rows). Fix: "
                            "raise --max-rows, or split or aggregate the file.")
        if not batch.num_rows:
            continue
        rec = _record_numbers(next_rec, batch.num_rows, [r[0] for r in invalid.rows])
        extra = np.zeros(batch.num_rows, np.int64)
        if tf.has_quote:
            extra = _newlines({n: batch.column(n).to_numpy(zero_copy_only=False)
                               for n in names})
        cells = {w: batch.column(w) for w in wanted}
        lines = rec + newlines + np.concatenate(([0], np.cumsum(extra)[:-1]))
        next_rec, newlines = int(rec[-1]) + 1, newlines + int(extra.sum())
        yield Chunk(lines.astype(np.int64), cells, np.zeros(batch.num_rows, dtype=bool))


def _record_numbers(first: int, m: int, skipped: list[int]) -> np.ndarray:
    """Line numbers of m rows from ``first``, stepping over lines the parser skipped."""
    rec = first + np.arange(m, dtype=np.int64)
    for b in sorted(x for x in skipped if x >= first):
        rec[rec >= b] += 1
    return rec


def _invalid_rows(invalid: _Invalid, tf: TextFile, sep: str, names: list[str],
                  wanted: list[str], findings: Findings, allow_missing: bool) -> Iterator[Chunk]:
    n = len(names)
    long = [r for r in invalid.rows if r[1] > n]
    short = [r for r in invalid.rows if r[1] < n]
    if long:
        findings.error("too_many_fields", f"row(s) with more fields than the header's {n}",
                       f"every row needs exactly {n} fields separated by {sep!r}; check the "
                       "delimiter (--sep) and the quoting on these lines",
                       lines=[r[0] for r in long[:MAX_SHOWN]],
                       values=[r[2] for r in long[:MAX_SHOWN]], count=len(long))
    if short and not allow_missing:
        findings.error("too_few_fields", f"row(s) with fewer fields than the header's {n}",
                       f"every row needs {n} fields separated by {sep!r} (another delimiter "
                       "on these lines? check --sep); or pass --allow-missing to count "
                       "absent fields as missing values", lines=[r[0] for r in short[:MAX_SHOWN]],
                       values=[r[2] for r in short[:MAX_SHOWN]], count=len(short))
    if short and allow_missing:
        fields = [next(csv.reader([r[2]], delimiter=sep), []) for r in short]
        padded = [f + [""] * (n - len(f)) for f in fields]
        import pyarrow as pa

        cells = {w: pa.array([p[names.index(w)] for p in padded], type=pa.string())
                 for w in wanted}
        yield Chunk(np.array([r[0] for r in short], dtype=np.int64), cells,
                    np.ones(len(short), dtype=bool))
