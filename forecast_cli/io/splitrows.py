"""Split a data file into one file per group of its rows, in its own format (partitioned runs).

A partitioned train or predict hands each task a file of its partition's rows only, so that a
worker reads what it trains on, not the whole panel. The part files keep what the readers
depend on: a CSV part has the file's header, delimiter, encoding and every cell's text as
written (decimal marks, time formats, quoting where a cell needs it), rows in file order; a
Parquet part has the file's schema and values. So reading a part with the settings the whole
file is read with gives exactly that group's series. Only the CSV module (or pyarrow for
Parquet) is used: no pandas, no conversion.

``route(keys, where)`` names each row's group (None: leave the row out) from the stripped text
of the ``keys`` columns; ``where`` is the row's line (CSV, header = 1) or data row (Parquet),
for its messages.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from forecast_cli.errors import DataError, InputMissingError
from forecast_cli.io.parquetread import is_parquet
from forecast_cli.loadoptions import TAB_NAMES

Route = Callable[[tuple[str, ...], int], str | None]
SEPARATORS = (",", ";", "\t", "|")  # as csvread sniffs them
FLUSH_CHARS = 32 << 20  # text buffered over every group before it is appended to the files
MAX_FIELD = 16 << 20


def split(path: Path, keys: tuple[str, ...], route: Route, dest: Path, *, label: str,
          sep: str | None = None, encoding: str = "utf-8") -> dict[str, Path]:
    """Write each group's rows of ``path`` to ``dest/GROUP.csv`` (or ``.parquet``); return
    group → file. DataError (65) naming the file when a ``keys`` column is absent."""
    if is_parquet(path):
        return _split_parquet(path, keys, route, dest, label)
    return _split_csv(path, keys, route, dest, label, sep, encoding)


def _sniffed(first_line: str, sep: str | None) -> str:
    if sep is not None:
        return "\t" if sep in TAB_NAMES else sep
    counts = {c: first_line.count(c) for c in SEPARATORS}
    best = max(counts, key=lambda c: counts[c])
    return best if counts[best] else ","


def _positions(names: list[str], keys: tuple[str, ...], label: str) -> list[int]:
    missing = [k for k in keys if k not in names]
    if missing:
        raise DataError(f"{label}: no column {missing[0]!r} (the columns are "
                        f"{', '.join(repr(n) for n in names)}). Name one of them.")
    return [names.index(k) for k in keys]


def _split_csv(path: Path, keys: tuple[str, ...], route: Route, dest: Path, label: str,
               sep: str | None, encoding: str) -> dict[str, Path]:
    if csv.field_size_limit() < MAX_FIELD:
        csv.field_size_limit(MAX_FIELD)
    try:
        fh = open(path, encoding=encoding, newline="")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise InputMissingError(f"{label}: cannot be read ({exc.strerror}).") from None
    with fh:
        first = fh.readline()
        fh.seek(0)
        delimiter = _sniffed(first.rstrip("\r\n"), sep)
        reader = csv.reader(fh, delimiter=delimiter)
        header = next(reader, [])
        where = _positions([h.strip() for h in header], keys, label)
        groups = _Groups(dest, header, delimiter, encoding)
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # a blank line: the readers skip it too
            name = route(tuple(row[i].strip() if i < len(row) else "" for i in where),
                         reader.line_num)
            if name is not None:
                groups.add(name, row)
        groups.flush()
    return groups.files


class _Groups:
    """The CSV part files being written: rows buffered as text, appended in large blocks (a
    file per group stays closed in between: thousands of groups need no open files)."""

    def __init__(self, dest: Path, header: list[str], sep: str, encoding: str) -> None:
        self.dest, self.header, self.sep, self.encoding = dest, header, sep, encoding
        self.buffers: dict[str, tuple[io.StringIO, Any]] = {}
        self.files: dict[str, Path] = {}
        self.size = 0

    def add(self, name: str, row: list[str]) -> None:
        if name not in self.buffers:
            text = io.StringIO()
            self.buffers[name] = (text, csv.writer(text, delimiter=self.sep, lineterminator="\n"))
            if name not in self.files:
                self.buffers[name][1].writerow(self.header)
        text, writer = self.buffers[name]
        before = text.tell()
        writer.writerow(row)
        self.size += text.tell() - before
        if self.size > FLUSH_CHARS:
            self.flush()

    def flush(self) -> None:
        for name, (text, _) in self.buffers.items():
            path = self.files.setdefault(name, self.dest / f"{name}.csv")
            with open(path, "a", encoding=self.encoding, newline="") as out:
                out.write(text.getvalue())
        self.buffers.clear()
        self.size = 0


def _split_parquet(path: Path, keys: tuple[str, ...], route: Route, dest: Path,
                   label: str) -> dict[str, Path]:
    import numpy as np
    import pyarrow.parquet as pq

    from forecast_cli.io.parquetread import as_text, is_typed, open_file

    table = open_file(path, label).read()
    where = _positions([str(n) for n in table.column_names], keys, label)
    cells = []
    for i in where:
        column = table.column(i).combine_chunks()
        text = as_text(column) if is_typed(column) else column
        cells.append([("" if v is None else str(v)).strip() for v in text.to_pylist()])
    names = [route(k, row + 1) for row, k in enumerate(zip(*cells, strict=True))]
    files: dict[str, Path] = {}
    by_name: dict[str, list[int]] = {}
    for row, name in enumerate(names):
        if name is not None:
            by_name.setdefault(name, []).append(row)
    for name in sorted(by_name):
        files[name] = dest / f"{name}.parquet"
        pq.write_table(table.take(np.asarray(by_name[name], dtype=np.int64)), files[name])
    return files
