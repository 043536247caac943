"""Put one series on a regular time axis: time zone, order, duplicates, frequency, gaps, fills.

Every function works on one series' arrays: ``ns`` (n,) int64 nanoseconds, ``values`` (n, k)
float64 (NaN = missing), ``lines`` (n,) int64 source line (0 for a row inserted for a gap).
Loss-free fixes (sorting, dropping identical duplicates, resolving DST by order) are applied and
recorded; anything that would invent or destroy information is an error unless an opt-in
option (``--dedupe``, ``--fill``, ``--dst-gap``) allows it, and then it is recorded too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from forecast_cli.data.frequency import infer_frequency
from forecast_cli.io.findings import MAX_SHOWN, Findings
from forecast_cli.loadoptions import LoadOptions

MAX_FILL_FRACTION = 0.2  # --fill refuses to invent more than this share of a column


@dataclass
class Rows:
    """One series' rows (arrays described in the module docstring)."""

    ns: np.ndarray
    values: np.ndarray
    lines: np.ndarray

    def take(self, idx: np.ndarray) -> Rows:
        return Rows(self.ns[idx], self.values[idx], self.lines[idx])


def _where(label: str | None) -> str:
    return f" in series {label!r}" if label else ""


def localize(rows: Rows, opts: LoadOptions, column: str, findings: Findings,
             label: str | None = None) -> Rows:
    """Interpret naive local times in ``opts.tz`` and convert them to UTC (file order needed)."""
    assert opts.tz is not None
    index = pd.DatetimeIndex(rows.ns.astype("datetime64[ns]"))
    try:
        first = index.tz_localize(opts.tz, ambiguous="NaT", nonexistent="NaT")
    except Exception as exc:  # unknown zone name
        findings.error("bad_tz", f"unknown time zone --tz {opts.tz!r} ({exc})",
                       "use an IANA name such as Europe/Berlin or UTC", column=column)
        return rows
    if first.notna().all():
        return Rows(first.tz_convert("UTC").tz_localize(None).asi8, rows.values, rows.lines)
    shifted = index.tz_localize(opts.tz, ambiguous=np.ones(len(index), bool),
                                nonexistent="NaT")
    gap = np.asarray(shifted.isna(), dtype=bool)
    if gap.any() and opts.dst_gap != "shift_forward":
        findings.error("dst_gap", f"local time(s) that do not exist in {opts.tz}{_where(label)} "
                       "(skipped by the spring-forward DST change)", "remove these rows, "
                       "write UTC offsets, or pass --dst-gap shift_forward", column=column,
                       lines=rows.lines[gap][:MAX_SHOWN],
                       values=[str(t) for t in index[gap][:MAX_SHOWN]], count=int(gap.sum()))
        return rows
    ambiguous = np.asarray(first.isna(), dtype=bool) & ~gap
    kw = {"nonexistent": "shift_forward"} if gap.any() else {}
    try:
        if ambiguous.any() and not np.all(np.diff(rows.ns) >= 0):
            raise ValueError("rows are not in time order")
        local = index.tz_localize(opts.tz, ambiguous="infer" if ambiguous.any() else "raise",
                                  **kw)  # type: ignore[arg-type]
    except ValueError:
        findings.error("dst_ambiguous", f"ambiguous local time(s){_where(label)} (repeated when "
                       f"the clocks go back in {opts.tz}) that cannot be resolved by row order",
                       "put the rows in time order, or write timestamps with UTC offsets",
                       column=column, lines=rows.lines[ambiguous][:MAX_SHOWN],
                       values=[str(t) for t in index[ambiguous][:MAX_SHOWN]],
                       count=int(ambiguous.sum()))
        return rows
    if ambiguous.any():
        findings.applied(f"resolved {int(ambiguous.sum())} ambiguous DST time(s){_where(label)}"
                         f" in {opts.tz} by row order")
    if gap.any():
        findings.applied(f"shifted {int(gap.sum())} nonexistent DST time(s){_where(label)} "
                         "forward (--dst-gap shift_forward)")
    return Rows(local.tz_convert("UTC").tz_localize(None).asi8, rows.values, rows.lines)


def order(rows: Rows, findings: Findings, label: str | None = None) -> Rows:
    """Sort by time (stable): loss-free, reported with the number of rows that moved."""
    if np.all(np.diff(rows.ns) >= 0):
        return rows
    idx = np.argsort(rows.ns, kind="stable")
    moved = int((idx != np.arange(len(idx))).sum())
    findings.applied(f"sorted rows by time{_where(label)} ({moved} rows were out of order)")
    return rows.take(idx)


def dedupe(rows: Rows, opts: LoadOptions, column: str, findings: Findings,
           label: str | None = None) -> Rows:
    """Drop identical duplicate rows; conflicting ones are errors unless --dedupe says how."""
    dup = np.flatnonzero(np.diff(rows.ns) == 0) + 1  # rows equal in time to the previous row
    if not dup.size:
        return rows
    same = np.array([np.array_equal(rows.values[i], rows.values[i - 1], equal_nan=True)
                     for i in dup], dtype=bool)
    conflicts = dup[~same]
    if conflicts.size and opts.dedupe == "none":
        findings.error("duplicate_timestamp", f"duplicate timestamp(s) with different values"
                       f"{_where(label)}", "remove the extra rows, or pass --dedupe first, "
                       "last or mean (local times repeated when the clocks go back? pass "
                       "--tz with their zone)", column=column,
                       lines=rows.lines[conflicts][:MAX_SHOWN],
                       values=[str(pd.Timestamp(t)) for t in rows.ns[conflicts][:MAX_SHOWN]],
                       count=int(conflicts.size))
        return rows
    if conflicts.size:
        frame = pd.DataFrame(rows.values).groupby(rows.ns, sort=True)
        values = getattr(frame, opts.dedupe)().to_numpy(np.float64)
        lines = pd.Series(rows.lines).groupby(rows.ns, sort=True).first().to_numpy(np.int64)
        findings.applied(f"merged {conflicts.size} conflicting duplicate timestamp(s)"
                         f"{_where(label)} with --dedupe {opts.dedupe}")
        return Rows(np.unique(rows.ns), values, lines)
    findings.applied(f"dropped {dup.size} exact duplicate row(s){_where(label)}")
    keep = np.ones(len(rows.ns), dtype=bool)
    keep[dup] = False
    return rows.take(np.flatnonzero(keep))


def _grid_size(index: pd.DatetimeIndex, freq: str) -> int | None:
    """Rows of the regular grid from the first to the last timestamp at a fixed step (a Tick:
    h, min, s, ns…), or None for calendar steps (D, B, MS…: at most one per day)."""
    try:
        nanos = to_offset(freq).nanos
    except (ValueError, TypeError):
        return None
    return int((index[-1] - index[0]).value // nanos) + 1 if nanos > 0 else None


def grid(rows: Rows, opts: LoadOptions, column: str, findings: Findings,
         label: str | None = None) -> tuple[Rows | None, str | None]:
    """Reindex onto the regular grid of the (given or inferred) frequency; gaps become NaN rows.

    Returns (None, freq) when the rows cannot be put on a grid (reported to ``findings``).
    """
    index = pd.DatetimeIndex(rows.ns.astype("datetime64[ns]"))
    freq = opts.freq or infer_frequency(index)
    if freq is None:
        findings.error("too_few_rows", f"only {len(index)} row(s){_where(label)}; need at least "
                       "2 to infer the frequency", "add rows, or pass --freq", column=column)
        return None, None
    size = _grid_size(index, freq)
    if size is not None and size > opts.max_rows:  # before allocating it: 1ns grids are PiB
        findings.error("bad_freq", f"frequency {freq!r} would put {size:,} rows on the grid "
                       f"from {index[0]} to {index[-1]}{_where(label)}, more than max_rows "
                       f"{opts.max_rows:,}", "pass the data's own frequency with --freq, or "
                       "leave it out to infer it", column=column)
        return None, None
    try:
        full = pd.date_range(index[0], index[-1], freq=freq)
    except ValueError as exc:
        findings.error("bad_freq", f"frequency {freq!r} is not usable ({exc})",
                       "pass a pandas alias such as h, D, MS with --freq", column=column)
        return None, None
    if len(full) == len(index) and full.equals(index):
        return rows, freq  # already regular: nothing to copy
    off = ~index.isin(full)
    if off.any():
        findings.error("off_grid", f"timestamp(s) off the regular {freq!r} grid{_where(label)}",
                       "pass --freq with the right frequency, or resample the data to a "
                       "regular grid", column=column, lines=rows.lines[off][:MAX_SHOWN],
                       values=[str(t) for t in index[off][:MAX_SHOWN]], count=int(off.sum()))
        return None, freq
    pos = full.get_indexer(index)
    values = np.full((len(full), rows.values.shape[1]), np.nan)
    values[pos] = rows.values
    lines = np.zeros(len(full), dtype=np.int64)
    lines[pos] = rows.lines
    return Rows(full.asi8, values, lines), freq


def gap_runs(inserted: np.ndarray) -> list[tuple[int, int]]:
    """(start row, length) of every run of True in ``inserted`` (n,)."""
    padded = np.concatenate(([False], inserted, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b - a)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
