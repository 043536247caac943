"""Load a CSV into a checked, sorted, regularly spaced frame of float64 values.

Nothing is trusted to ``read_csv`` defaults: every cell is read as a string and converted here,
so each coercion is counted and reported with its line number (the header is line 1). All
problems of one kind are collected in a single pass, so the user can fix them at once.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from forecast_cli.errors import DataError, InputMissingError
from forecast_cli.frequency import infer_frequency

NA_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none"})
MAX_SHOWN = 5  # problems listed per kind; the count says how many there are in all
SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class Frame:
    """A validated time series table.

    Attributes
    ----------
    path : the file it came from.
    timestamps : (n,) sorted, unique, regularly spaced DatetimeIndex.
    values : (n, k) float64, finite; column j is ``columns[j]``.
    line_numbers : (n,) the CSV line each row came from (header = line 1).
    fixes : loss-free normalisations that were applied, in words.
    """

    path: Path
    time_col: str
    columns: tuple[str, ...]
    timestamps: pd.DatetimeIndex
    values: np.ndarray
    freq: str
    line_numbers: np.ndarray
    fixes: tuple[str, ...] = field(default=())

    def column(self, name: str) -> np.ndarray:
        """Values of one column, shape (n,)."""
        return self.values[:, self.columns.index(name)]

    def fingerprint(self) -> str:
        """sha256 over timestamps, column names and values: identifies the data, not the file."""
        digest = hashlib.sha256()
        digest.update(",".join(self.columns).encode())
        digest.update(self.timestamps.asi8.tobytes())
        digest.update(np.ascontiguousarray(self.values, dtype="<f8").tobytes())
        return digest.hexdigest()


def _listing(items: list[str], total: int) -> str:
    more = f" (and {total - len(items)} more)" if total > len(items) else ""
    return "; ".join(items) + more


def _check_readable(path: Path) -> bytes:
    """Return the first bytes of the file, or raise the error the catalogue asks for."""
    if not path.exists():
        raise InputMissingError(f"{path}: file not found.")
    if path.is_dir():
        raise InputMissingError(f"{path}: is a directory, not a CSV file.")
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError as exc:
        raise InputMissingError(f"{path}: cannot read ({exc.strerror}).") from None
    if not head:
        raise DataError(f"{path}: file is empty (0 bytes).")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(
            f"{path}: looks like UTF-16 (byte-order mark {head[:2].hex(' ').upper()}); "
            "re-save it as UTF-8."
        )
    nul = head.find(b"\x00")
    if nul >= 0:
        raise DataError(f"{path}: contains a NUL byte at offset {nul}; not a text CSV.")
    return head


def _decode_check(path: Path) -> None:
    """Fail with the byte offset of the first invalid UTF-8 sequence."""
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{path}: not valid UTF-8 at byte offset {exc.start} (line {line}, byte "
            f"0x{raw[exc.start]:02x}); re-save the file as UTF-8."
        ) from None


def _sniff_sep(path: Path, head: bytes, sep: str | None) -> str:
    if sep is not None:
        return sep
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    header = text.splitlines()[0] if text else ""
    counts = {c: header.count(c) for c in (",", ";", "\t", "|")}
    best = max(counts, key=lambda c: counts[c])
    if counts[best] == 0:
        return ","  # a single column; reported later as "no value column"
    return best


def _read_header(path: Path, sep: str) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh, delimiter=sep), [])
    names = [h.strip() for h in header]
    seen: dict[str, int] = {}
    for name in names:
        key = name.lower()
        if key in seen:
            raise DataError(f"{path}, line 1: duplicate column {name!r}; rename one of them.")
        seen[key] = 1
    if any(not n for n in names):
        raise DataError(f"{path}, line 1: a column has an empty name; give every column a name.")
    return names


def _read_strings(path: Path, sep: str, names: list[str]) -> pd.DataFrame:
    """Every cell as a string; a missing trailing field stays NaN (empty fields are "")."""
    try:
        df = pd.read_csv(
            path, sep=sep, dtype=str, keep_default_na=False, na_filter=False, index_col=False,
            header=0, names=names, encoding="utf-8-sig", skipinitialspace=False,
        )
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: malformed CSV ({exc}).") from None
    if df.empty:
        raise DataError(f"{path}: no data rows (only a header).")
    return df


def _resolve(path: Path, wanted: str, names: list[str], what: str) -> str:
    """Match a column name exactly, then case- and whitespace-insensitively."""
    if wanted in names:
        return wanted
    folded = [n for n in names if n.lower() == wanted.strip().lower()]
    if len(folded) == 1:
        return folded[0]
    import difflib

    close = difflib.get_close_matches(wanted, names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise DataError(
        f"{path}: {what} column {wanted!r} not found. Columns: {', '.join(names)}.{hint}"
    )


def _looks_like_time(cells: pd.Series) -> bool:
    sample = cells[cells.str.strip() != ""].head(20)
    if sample.empty or sample.str.fullmatch(r"\s*[-+]?\d+(\.\d*)?([eE][-+]?\d+)?\s*").all():
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="ISO8601", utc=True)
    return bool(parsed.notna().all())


def _pick_time_col(path: Path, df: pd.DataFrame, time_col: str | None) -> str:
    names = list(df.columns)
    if time_col is not None:
        return _resolve(path, time_col, names, "time")
    found = [n for n in names if _looks_like_time(df[n])]
    if len(found) == 1:
        return found[0]
    if not found:
        raise DataError(f"{path}: no column parses as ISO-8601 timestamps; name it with "
                        f"--time-col. Columns: {', '.join(names)}.")
    raise DataError(f"{path}: several columns look like timestamps ({', '.join(found)}); "
                    "choose one with --time-col.")


def _parse_times(path: Path, cells: pd.Series, col: str, lines: np.ndarray) -> pd.DatetimeIndex:
    text = cells.str.strip()
    aware = text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
    if aware.any() and not aware.all():
        i = int(np.argmin(aware.to_numpy()) if aware.iloc[0] else np.argmax(aware.to_numpy()))
        raise DataError(f"{path}, line {lines[i]}, column {col!r}: {cells.iloc[i]!r} mixes "
                        "time-zone-aware and naive timestamps; use one kind throughout.")
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=bool(aware.any()))
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        shown = [f"line {lines[i]}: {cells.iloc[i]!r}" for i in bad[:MAX_SHOWN]]
        raise DataError(f"{path}, column {col!r}: {bad.size} timestamp(s) are not ISO-8601 "
                        f"(YYYY-MM-DD[ HH:MM[:SS]]): {_listing(shown, bad.size)}.")
    index = pd.DatetimeIndex(parsed)
    return index.tz_convert("UTC").tz_localize(None) if aware.any() else index


def _parse_numbers(path: Path, df: pd.DataFrame, cols: list[str], lines: np.ndarray) -> np.ndarray:
    """Convert columns to float64; report non-numbers, missing and infinite cells per column."""
    out = np.empty((len(df), len(cols)), dtype=np.float64)
    problems: list[str] = []
    for j, col in enumerate(cols):
        raw = df[col]
        absent = raw.isna().to_numpy()  # row had too few fields
        text = raw.fillna("").str.strip()
        missing = text.str.lower().isin(NA_TOKENS).to_numpy()
        values = pd.to_numeric(text.where(~missing, None), errors="coerce").to_numpy(np.float64)
        not_number = np.isnan(values) & ~missing
        infinite = np.isinf(values)
        for mask, what in ((absent, "row has too few fields"),
                           (not_number, "not a number"),
                           (missing & ~absent, "missing value"),
                           (infinite, "infinite value")):
            idx = np.flatnonzero(mask)
            if idx.size:
                shown = [f"line {lines[i]}: {raw.iloc[i]!r}" for i in idx[:MAX_SHOWN]]
                problems.append(f"column {col!r}: {idx.size} {what}(s): "
                                f"{_listing(shown, idx.size)}")
        out[:, j] = values
    if problems:
        raise DataError(f"{path}: " + "\n  ".join(problems) +
                        "\nNever trained on: fix or remove these cells.")
    return out


def _order_and_dedupe(
    path: Path, times: pd.DatetimeIndex, values: np.ndarray, lines: np.ndarray
) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray, list[str]]:
    """Sort by time (a loss-free fix) and drop exact duplicate rows; conflicting ones fail."""
    fixes: list[str] = []
    if not times.is_monotonic_increasing:
        order = np.argsort(times.asi8, kind="stable")
        moved = int((order != np.arange(len(order))).sum())
        times, values, lines = times[order], values[order], lines[order]
        fixes.append(f"sorted rows by time ({moved} rows were out of order)")
    dup = np.flatnonzero(times.duplicated(keep="first"))
    if dup.size:
        conflicts = [i for i in dup if not np.array_equal(values[i], values[i - 1])]
        if conflicts:
            shown = [f"{times[int(i)]} (lines {lines[i - 1]} and {lines[i]})"
                     for i in conflicts[:MAX_SHOWN]]
            raise DataError(f"{path}: {len(conflicts)} duplicate timestamp(s) with different "
                            f"values: {_listing(shown, len(conflicts))}.")
        keep = ~times.duplicated(keep="first")
        times, values, lines = times[keep], values[keep], lines[keep]
        fixes.append(f"dropped {dup.size} exact duplicate row(s)")
    return times, values, lines, fixes


def _check_spacing(path: Path, times: pd.DatetimeIndex, freq: str | None) -> str:
    inferred = freq or infer_frequency(times)
    if inferred is None:
        raise DataError(f"{path}: need at least 2 rows to infer the frequency; got {len(times)}.")
    try:
        full = pd.date_range(times[0], times[-1], freq=inferred)
    except ValueError as exc:
        raise DataError(f"{path}: frequency {inferred!r} is not usable ({exc}).") from None
    if len(full) != len(times) or not full.equals(times):
        missing = full.difference(times)
        off_grid = times.difference(full)
        parts = []
        if len(missing):
            parts.append(f"{len(missing)} missing timestamp(s), first {missing[0]}")
        if len(off_grid):
            parts.append(f"{len(off_grid)} timestamp(s) off the {inferred!r} grid, first "
                         f"{off_grid[0]}")
        raise DataError(f"{path}: the series is not regularly spaced at frequency {inferred!r}: "
                        + "; ".join(parts) + ". Fill the gaps or pass --freq.")
    return inferred


def load_csv(
    path: Path,
    columns: list[str] | None = None,
    time_col: str | None = None,
    sep: str | None = None,
    freq: str | None = None,
) -> Frame:
    """Read, check and normalise a CSV of one time column and numeric value columns.

    ``columns`` are the value columns to keep, in order; ``None`` keeps every non-time column.
    Raises InputMissingError (66) when the file cannot be read and DataError (65) otherwise.
    """
    path = Path(path)
    head = _check_readable(path)
    _decode_check(path)
    sep = _sniff_sep(path, head, sep)
    names = _read_header(path, sep)
    df = _read_strings(path, sep, names)
    lines = np.arange(len(df), dtype=np.int64) + 2
    tcol = _pick_time_col(path, df, time_col)
    if columns:
        wanted = [_resolve(path, c, names, "value") for c in columns]
    else:
        wanted = [n for n in names if n != tcol]
    if not wanted:
        raise DataError(f"{path}: no value column besides the time column {tcol!r}.")
    if tcol in wanted:
        raise DataError(f"{path}: column {tcol!r} is the time column; it cannot be a value.")
    times = _parse_times(path, df[tcol], tcol, lines)
    values = _parse_numbers(path, df, wanted, lines)
    times, values, lines, fixes = _order_and_dedupe(path, times, values, lines)
    inferred = _check_spacing(path, times, freq)
    return Frame(path=path, time_col=tcol, columns=tuple(wanted), timestamps=times,
                 values=values, freq=inferred, line_numbers=lines, fixes=tuple(fixes))
