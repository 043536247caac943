"""Convert text cells to numbers and timestamps, counting every coercion.

Each function takes one chunk of one column (a pyarrow string array) with the rows' line
numbers, returns numpy arrays, and reports every cell it could not convert to the ``Findings``
(line, column, value and the option that would fix it). Clean chunks take a vectorised Arrow
path; a chunk with anything unusual in it goes cell by cell through pandas, which is exact
about what it refuses and slower.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from forecast_cli.checks import MAX_MAGNITUDE
from forecast_cli.io import digits as scripts
from forecast_cli.io import parquetread
from forecast_cli.io.findings import Findings, examples
from forecast_cli.loadoptions import LoadOptions

NA_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "#n/a"})
# the tokens as people write them: matched by hashing, without lower-casing every cell
NA_VARIANTS = frozenset(v for t in NA_TOKENS for v in (t, t.upper(), t.capitalize(), t.title(),
                                                        "NaN", "N/A", "#N/A"))
NAT = np.iinfo(np.int64).min
BIG_INT = 2**53
# The timestamps int64 nanoseconds hold (pandas' Timestamp.min … Timestamp.max)
FIRST_TIME, LAST_TIME = pd.Timestamp.min, pd.Timestamp.max
NOT_A_NUMBER_FIX = ("correct or remove these cells; leave a missing value empty (or NA) and pass "
                    "--fill interpolate or --fill ffill to fill it, or --fill drop to keep its "
                    "row out")
_DECIMAL_COMMA = r"[-+]?\d*,\d+"
_INTEGER = r"\s*[-+]?\d+\s*"
_NUMBER = r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*"
_AWARE = r"(?:Z|[+-]\d\d:?\d\d)$"
_SLASH = r"\d{1,2}[/.]\d{1,2}[/.]\d{2,4}.*"


def _text(cells: Any) -> pd.Series:
    """Stripped str cells of an Arrow string array (or anything array-like)."""
    if hasattr(cells, "to_numpy") and not isinstance(cells, np.ndarray):
        cells = cells.to_numpy(zero_copy_only=False)
    return pd.Series(cells, dtype=object).fillna("").astype(str).str.strip()


def _fast_numbers(cells: Any, opts: LoadOptions) -> np.ndarray | None:
    """Arrow's own string → float64 cast when every cell is a plain finite number, else None."""
    if opts.decimal != "." or opts.thousands or isinstance(cells, np.ndarray):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        values = pc.cast(pc.utf8_trim_whitespace(cells), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    out = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
    if not np.isfinite(out).all() or (np.abs(out) >= BIG_INT).any():
        return None  # "nan", "inf", huge integers: the exact path reports them
    return out


def _grouped(sep: str, dec: str) -> str:
    """A number grouped in thousands by ``sep`` with ``dec`` as its decimal mark."""
    return (r"[-+]?\d{1,3}(?:" + re.escape(sep) + r"\d{3})+(?:" + re.escape(dec)
            + r"\d+)?")


def _number_fix(bad: pd.Series, opts: LoadOptions) -> str:
    """The option that would read these cells, worked out from the cells themselves."""
    if opts.thousands is None:
        for sep in (s for s in (",", ".", " ", "'") if s != opts.decimal):
            if bad.str.fullmatch(_grouped(sep, opts.decimal)).any():
                keep = f" (with --decimal '{opts.decimal}')" if opts.decimal != "." else ""
                return f"these look like thousands separators: pass --thousands '{sep}'{keep}"
    if opts.decimal == "." and opts.thousands != ",":
        swapped = _grouped(".", ",")
        if bad.str.fullmatch(swapped).any() and bad.str.contains(",", regex=False).any():
            return "these look like European numbers: pass --decimal ',' --thousands '.'"
        if bad.str.fullmatch(_DECIMAL_COMMA).any():
            return "these look like decimal commas: pass --decimal ','"
    return NOT_A_NUMBER_FIX


def _normalise(text: pd.Series, opts: LoadOptions) -> tuple[pd.Series, np.ndarray]:
    """Apply --thousands and --decimal; returns the text and a mask of cells they make invalid."""
    invalid = np.zeros(len(text), dtype=bool)
    if opts.thousands:
        sep = opts.thousands
        dec = opts.decimal
        is_grouped = text.str.fullmatch(_grouped(sep, dec)).to_numpy(dtype=bool)
        text = text.where(~is_grouped, text.str.replace(sep, "", regex=False))
    if opts.decimal != ".":
        invalid |= text.str.contains(".", regex=False).to_numpy(dtype=bool)
        text = text.str.replace(opts.decimal, ".", regex=False)
    return text, invalid


def to_numbers(cells: Any, column: str, lines: np.ndarray, opts: LoadOptions,
               findings: Findings, refused: list[np.ndarray] | None = None) -> np.ndarray:
    """(m,) cells → (m,) float64; NaN where the cell is missing (reported later by the gap check).

    Non-numbers, infinities and overflows are errors; integers beyond 2^53 are warnings.
    ``refused``: the lines of cells refused as not numbers (NaN too) are appended to it, so the
    gap check can tell them from empty cells.
    """
    if parquetread.is_typed(cells):  # a Parquet column: as it is, or as text when odd
        typed = parquetread.numbers(cells, BIG_INT)
        if typed is not None:
            return typed
        cells = parquetread.as_text(cells)
    fast = _fast_numbers(cells, opts)
    if fast is not None:
        return fast
    raw = _text(cells)
    if scripts.all_ascii(cells):
        digits, converted = raw, np.zeros(len(raw), dtype=bool)
    else:
        digits, converted = scripts.convert_digits(raw)
    missing = digits.isin(NA_VARIANTS).to_numpy(dtype=bool)
    text, invalid = _normalise(digits, opts)
    text = text.where(~missing, "")
    simple = text.str.fullmatch(_NUMBER).to_numpy(dtype=bool)
    values = np.full(len(text), np.nan)
    values[simple] = text[simple].to_numpy(dtype=np.float64)
    rest = ~simple & ~missing
    if rest.any():  # inf, "1e400" and friends go through to_numeric
        values[rest] = pd.to_numeric(text[rest], errors="coerce").to_numpy(np.float64)
    not_number = (np.isnan(values) & ~missing) | invalid
    if not_number.any():
        at, vals = examples(not_number, lines, raw.to_numpy())
        findings.error("not_a_number", "cell(s) that are not numbers",
                       _number_fix(raw[not_number], opts), column=column, lines=at,
                       values=vals, count=int(not_number.sum()))
        values[not_number] = np.nan
        if refused is not None:
            refused.append(lines[not_number])
    scripts.record(findings, column, lines, raw, digits, converted & ~not_number)
    infinite = np.isinf(values)
    if infinite.any():
        at, vals = examples(infinite, lines, raw.to_numpy())
        findings.error("infinite", "infinite or overflowing value(s)", "replace them by finite "
                       "numbers (or leave the cell empty to mark it missing); values are never "
                       "clipped silently", column=column, lines=at, values=vals,
                       count=int(infinite.sum()))
    huge = np.abs(np.nan_to_num(values, posinf=0, neginf=0)) > MAX_MAGNITUDE
    if huge.any():
        at, vals = examples(huge, lines, raw.to_numpy())
        findings.error("too_large", f"value(s) beyond ±{MAX_MAGNITUDE:g}, too large to scale "
                       "without overflow", "rescale the column (e.g. divide it by a power of "
                       "ten) before export; values are never clipped silently", column=column,
                       lines=at, values=vals, count=int(huge.sum()))
    _check_big_ints(values, digits, column, lines, findings)
    return values


def _check_big_ints(values: np.ndarray, raw: pd.Series, column: str, lines: np.ndarray,
                    findings: Findings) -> None:
    big = np.abs(np.nan_to_num(values, posinf=0, neginf=0)) >= BIG_INT
    if not big.any():
        return
    big &= raw.str.fullmatch(_INTEGER).to_numpy(dtype=bool)
    if big.any():
        at, vals = examples(big, lines, raw.to_numpy())
        findings.warn("precision_loss", "integer(s) larger than 2^53 that float64 cannot hold "
                      "exactly", "scale the values down (e.g. to thousands) before export",
                      column=column, lines=at, values=vals, count=int(big.sum()))


def to_times(cells: Any, column: str, lines: np.ndarray, opts: LoadOptions,
             findings: Findings) -> tuple[np.ndarray, np.ndarray]:
    """(m,) cells → (m,) int64 nanoseconds (UTC when aware; NAT when missing) and (m,) aware.

    Digits of other scripts are converted first (a cell refused all the same is shown
    converted)."""
    if parquetread.is_typed(cells):  # a Parquet column: as it is, or as text when odd
        typed = parquetread.times(cells) if opts.time_unit is None else None
        if typed is not None:
            return typed
        cells = parquetread.as_text(cells)
    if scripts.all_ascii(cells):
        return _to_times(cells, column, lines, opts, findings)
    raw = _text(cells)
    text, converted = scripts.convert_digits(raw)
    ns, aware = _to_times(text.to_numpy(), column, lines, opts, findings)
    scripts.record(findings, column, lines, raw, text, converted & (ns != NAT))
    return ns, aware


def _to_times(cells: Any, column: str, lines: np.ndarray, opts: LoadOptions,
              findings: Findings) -> tuple[np.ndarray, np.ndarray]:
    text = _text(cells)
    empty = text.isin(NA_VARIANTS).to_numpy(dtype=bool)
    if empty.any():
        at, _ = examples(empty, lines, text.to_numpy())
        findings.error("missing_timestamp", "row(s) without a timestamp", "give every row a "
                       "timestamp, or remove those rows", column=column, lines=at,
                       count=int(empty.sum()))
    if opts.time_unit is not None:
        ns = _epoch(text, empty, column, lines, opts.time_unit, findings)
        return ns, np.ones(len(text), dtype=bool)
    known = text[~empty]
    first_int = len(known) and re.fullmatch(_INTEGER, known.iloc[0])
    if first_int and known.str.fullmatch(_INTEGER).all():
        findings.error("epoch_numbers", "holds numbers, not timestamps", "if they are Unix "
                       "epoch times pass --time-unit s (or ms); convert Excel serial day "
                       "numbers to dates first", column=column, lines=lines[:1],
                       values=text.iloc[:1].tolist(), count=int((~empty).sum()))
        return np.full(len(text), NAT, dtype=np.int64), np.zeros(len(text), dtype=bool)
    aware = _aware(cells, text) & ~empty
    ns = np.full(len(text), NAT, dtype=np.int64)
    outside = np.zeros(len(text), dtype=bool)
    for mask, utc in ((aware, True), (~aware & ~empty, False)):
        if mask.any():
            ns[mask], outside[mask] = _parse(text[mask], opts, utc)
    if outside.any():
        at, vals = examples(outside, lines, text.to_numpy())
        findings.error("time_range", f"timestamp(s) outside {FIRST_TIME:%Y-%m-%d} … "
                       f"{LAST_TIME:%Y-%m-%d}, the range forecast holds (nanoseconds in 64 "
                       "bits)", "correct the year (a typo?) or remove these rows",
                       column=column, lines=at, values=vals, count=int(outside.sum()))
    bad = (ns == NAT) & ~empty & ~outside
    if bad.any():
        _report_unparsed(text, bad, column, lines, opts, findings)
    return ns, aware


def _aware(cells: Any, text: pd.Series) -> np.ndarray:
    """(m,) bool: the cell ends in a UTC offset or Z (vectorised by Arrow when it can be)."""
    if isinstance(cells, np.ndarray) or not hasattr(cells, "to_numpy"):
        return np.asarray(text.str.contains(_AWARE, regex=True), dtype=bool)
    import pyarrow.compute as pc

    found = pc.match_substring_regex(pc.utf8_trim_whitespace(cells), _AWARE)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def _parse(text: pd.Series, opts: LoadOptions, utc: bool) -> tuple[np.ndarray, np.ndarray]:
    """(m,) cells → (m,) int64 nanoseconds (NAT where unparsed or out of range) and (m,) bool:
    parsed, but outside the range of nanoseconds (pandas parses to microseconds)."""
    if opts.time_format is None and opts.dayfirst:
        parsed = pd.to_datetime(text, dayfirst=True, errors="coerce", utc=utc)
    else:
        parsed = pd.to_datetime(text, format=opts.time_format or "ISO8601", errors="coerce",
                                utc=utc)
    index = pd.DatetimeIndex(parsed)
    if utc:
        index = index.tz_convert("UTC").tz_localize(None)
    outside = np.asarray((index < FIRST_TIME) | (index > LAST_TIME), dtype=bool)
    if outside.any():
        index = pd.DatetimeIndex(index.where(~outside))
    return np.asarray(index.as_unit("ns").asi8), outside


def _report_unparsed(text: pd.Series, bad: np.ndarray, column: str, lines: np.ndarray,
                     opts: LoadOptions, findings: Findings) -> None:
    at, vals = examples(bad, lines, text.to_numpy())
    if opts.time_format:
        what, fix = (f"timestamp(s) that do not match --time-format {opts.time_format!r}",
                     "correct these cells or the format")
    elif text[bad].str.fullmatch(_SLASH).any():
        what, fix = ("timestamp(s) that are not ISO-8601 (YYYY-MM-DD[ HH:MM[:SS]])",
                     "day/month order is ambiguous: pass --dayfirst for DD/MM/YYYY, or "
                     "--time-format '%m/%d/%Y' (with the time part if any)")
    else:
        what, fix = ("timestamp(s) that are not ISO-8601 (YYYY-MM-DD[ HH:MM[:SS]])",
                     "write ISO-8601 timestamps, or pass --time-format (e.g. "
                     "'%d.%m.%Y %H:%M')")
    findings.error("bad_timestamp", what, fix, column=column, lines=at, values=vals,
                   count=int(bad.sum()))


def _epoch(text: pd.Series, empty: np.ndarray, column: str, lines: np.ndarray, unit: str,
           findings: Findings) -> np.ndarray:
    numbers = pd.to_numeric(text.where(~empty, None), errors="coerce").to_numpy(np.float64)
    bad = np.isnan(numbers) & ~empty
    if bad.any():
        at, vals = examples(bad, lines, text.to_numpy())
        findings.error("bad_timestamp", f"value(s) that are not epoch numbers (--time-unit "
                       f"{unit})", "correct these cells", column=column, lines=at,
                       values=vals, count=int(bad.sum()))
    ok = ~np.isnan(numbers)
    ns = np.full(len(text), NAT, dtype=np.int64)
    scale = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[unit]
    low, high = pd.Timestamp("1971-01-01").value, pd.Timestamp("2200-01-01").value
    with np.errstate(over="ignore", invalid="ignore"):
        as_ns = numbers * scale
    out_of_range = ok & ((as_ns < low) | (as_ns > high))
    if out_of_range.any():
        at, vals = examples(out_of_range, lines, text.to_numpy())
        findings.error("epoch_range", f"epoch value(s) that give dates outside 1971…2200 with "
                       f"--time-unit {unit}", "check --time-unit (s, ms, us, ns); Excel serial "
                       "day numbers must be converted to dates first", column=column,
                       lines=at, values=vals, count=int(out_of_range.sum()))
    good = ok & ~out_of_range
    ns[good] = np.round(as_ns[good]).astype(np.int64)
    return ns


def check_day_month(ns: np.ndarray, column: str, opts: LoadOptions, findings: Findings) -> None:
    """Warn when day-first parsing was asked for but no day exceeds 12 (order unverifiable)."""
    day_first = opts.dayfirst or bool(opts.time_format and "%d" in opts.time_format
                                      and "%m" in opts.time_format)
    known = ns[ns != NAT]
    if not day_first or not known.size:
        return
    if pd.DatetimeIndex(known.astype("datetime64[ns]")).day.max() <= 12:
        findings.warn("day_month_ambiguous", "every day value is ≤ 12, so the data cannot "
                      "confirm the day/month order", "check that --dayfirst / --time-format "
                      "match how the file was written", column=column)
