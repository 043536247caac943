"""Read a Parquet file as cells, batch by batch, with each row's 1-based data row number.

A file is Parquet when it starts and ends with the magic bytes ``PAR1`` (whatever its name).
Its columns come as they are typed: numbers stay numbers and timestamps stay timestamps
(``convert`` takes them without a round trip through text; a zone-aware timestamp is an
instant, as a CSV timestamp with a UTC offset is); every other column (strings, categories,
dates, booleans) is handed over as text, so that it goes through exactly the conversions and
checks a CSV cell does, with the same messages, "row N" naming the N-th data row.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli.errors import DataError

MAGIC = b"PAR1"
BATCH_ROWS = 64 * 1024


def is_parquet(path: Path) -> bool:
    """Whether ``path`` (a regular file) starts and ends with the Parquet magic bytes."""
    try:
        with path.open("rb") as fh:
            if fh.read(4) != MAGIC:
                return False
            size = fh.seek(0, 2)
            if size < 12:
                return False
            fh.seek(size - 4)
            return fh.read(4) == MAGIC
    except OSError:
        return False


def open_file(path: Path, label: str) -> Any:
    """A ``pyarrow.parquet.ParquetFile``; DataError (65) when the footer or schema is broken."""
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # pyarrow's ArrowInvalid, OSError…: not a readable Parquet file
        raise DataError(f"{label}: not a readable Parquet file ({exc}). Fix: write it again "
                        "(e.g. with pandas' to_parquet), or export the data as CSV.") from None


def names(pf: Any, label: str) -> list[str]:
    """The column names of the file, refused when empty or repeated (as a CSV header is)."""
    cols = [str(n) for n in pf.schema_arrow.names]
    twice = sorted({n for n in cols if cols.count(n) > 1})
    if twice:
        raise DataError(f"{label}: duplicate column {twice[0]!r}. Fix: rename the columns so "
                        "that each name is unique.")
    if not cols or any(not n.strip() for n in cols):
        raise DataError(f"{label}: a column has an empty name. Fix: give every column a name.")
    return cols


def ignored_options(pf: Any, sep: str | None, encoding: str, decimal: str,
                    thousands: str | None) -> list[str]:
    """The text-file options set away from their defaults that cannot act on this file, as
    ``--name 'value'``: a delimiter and an encoding never (Parquet has columns, and its text is
    UTF-8 by its format); a decimal mark or thousands separator when no column holds text (a
    text column is read as a CSV cell is, so they apply to it)."""
    import pyarrow as pa

    out = [f"--{name} {value!r}" for name, value, default in
           (("sep", sep, None), ("encoding", encoding, "utf-8")) if value != default]
    text = any(pa.types.is_string(t) or pa.types.is_large_string(t) or
               pa.types.is_dictionary(t) for t in pf.schema_arrow.types)
    if not text:
        out += [f"--{name} {value!r}" for name, value, default in
                (("decimal", decimal, "."), ("thousands", thousands, None)) if value != default]
    return out


def _typed(array: Any) -> bool:
    """Columns handed over as they are: numbers (not booleans) and timestamps."""
    import pyarrow as pa

    t = array.type
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_timestamp(t))


def as_cells(array: Any, column: str, label: str) -> Any:
    """One column of a batch as the readers' cells: typed as it is, or as text ("" for null)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if _typed(array):
        return array
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    try:
        text = pc.cast(array, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise DataError(f"{label}, column {column!r}: Parquet type {array.type} cannot be read "
                        "as numbers or timestamps. Fix: write the column as numbers, "
                        "timestamps or text.") from None
    return pc.fill_null(text, "")


def sample(pf: Any, cols: list[str], label: str, rows: int) -> dict[str, list[str]]:
    """The first ``rows`` cells of every column as text ("" for null), to pick the time
    column and spot id columns as in a CSV."""
    import pyarrow as pa
    import pyarrow.compute as pc

    head = next(pf.iter_batches(batch_size=rows, use_threads=False), None)
    if head is None:
        return {c: [] for c in cols}
    out = {}
    for c in cols:
        try:
            cells = as_cells(head.column(c), c, label)
        except DataError:  # refused only if it is read: not when other columns are asked for
            out[c] = [""] * min(rows, head.num_rows)
            continue
        if _typed(cells):
            cells = pc.fill_null(pc.cast(cells, pa.string()), "")
        out[c] = [str(v) for v in cells.to_pylist()[:rows]]
    return out


def batches(pf: Any, wanted: list[str], label: str, max_rows: int) -> Iterator[Any]:
    """(row numbers (m,) int64 from 1, column → cells) of each batch of the wanted columns."""
    if pf.metadata.num_rows > max_rows:
        raise DataError(f"{label}: more than {max_rows} data rows (--max-rows). Fix: raise "
                        "--max-rows, or split or aggregate the file.")
    first = 1
    try:
        for batch in pf.iter_batches(batch_size=BATCH_ROWS, columns=wanted, use_threads=False):
            if not batch.num_rows:
                continue
            rows = np.arange(first, first + batch.num_rows, dtype=np.int64)
            first += batch.num_rows
            yield rows, {w: as_cells(batch.column(w), w, label) for w in wanted}
    except DataError:
        raise
    except Exception as exc:  # a corrupt page: pyarrow's own error, with our file name
        raise DataError(f"{label}: unreadable Parquet data after row {first - 1} ({exc}). Fix: "
                        "write the file again.") from None


def is_typed(cells: Any) -> bool:
    """Whether ``cells`` is a typed (number or timestamp) column of a Parquet batch."""
    return hasattr(cells, "type") and _typed(cells)


def as_text(cells: Any) -> Any:
    """A typed column as the text a CSV would hold ("" for null), for the exact checks."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.fill_null(pc.cast(cells, pa.string()), "")


def numbers(cells: Any, big: float) -> np.ndarray | None:
    """(m,) float64 of a numeric column, NaN where null or NaN (missing, as an empty CSV
    cell); None when a value needs the text checks (infinite, or ``big`` or more)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_timestamp(cells.type):
        return None
    # unsafe: an integer beyond 2^53 is rounded here, then sent to the text checks (``big``)
    values = np.asarray(pc.cast(cells, pa.float64(), safe=False).to_numpy(zero_copy_only=False),
                        dtype=np.float64)
    with np.errstate(invalid="ignore"):
        if np.isinf(values).any() or (np.abs(values) >= big).any():
            return None
    return values


def times(cells: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """(m,) int64 nanoseconds (UTC when zone-aware) and (m,) aware of a timestamp column; None
    when a value needs the text checks (null, or outside the nanosecond range)."""
    import pyarrow as pa

    if not pa.types.is_timestamp(cells.type) or cells.null_count:
        return None
    try:
        ns = cells.cast(pa.timestamp("ns", cells.type.tz))  # safe: overflow raises
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    out = np.asarray(ns.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
    return out, np.full(len(out), cells.type.tz is not None, dtype=bool)
