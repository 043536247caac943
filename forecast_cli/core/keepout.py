"""``--fill drop``: rows with a missing value stay on the time grid but no window reads them.

Deleting rows would shift every later row's seasonal position, so a row with a missing value
(a NaN in any column, or a timestamp absent from the file) keeps its place and every window that
would read it is left out: for training, validation, test, the baselines and the metrics. A
window with origin ``t`` (see ``splits``) reads its inputs ``[t - lookback, t)`` and targets
``[t, t + horizon)``; a scored (test) window also reads the rows seasonal naive copies,
``[t - season, t - season + min(horizon, season))``. Scalers are fitted on the complete
training rows only (``scaling.fit_scaler``), and ``check_windows`` proves, on the origins, that
nothing non-finite reaches the network.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast_cli.core.splits import PARTS, SplitBounds, origins, window_counts
from forecast_cli.errors import DataError

SHOWN = 5  # rows named in a message


class IncompleteWindowError(RuntimeError):
    """A window about to reach the network reads a non-finite row: a bug, never user data."""


def missing_rows(values: np.ndarray) -> np.ndarray:
    """(n, k) values → (n,) bool: the row has a NaN (or any non-finite) cell."""
    return np.asarray(~np.isfinite(values).all(axis=1))


def _prefix(missing: np.ndarray) -> np.ndarray:
    """(n + 1,) counts of missing rows before each row."""
    return np.concatenate(([0], np.cumsum(missing, dtype=np.int64)))


def complete(missing: np.ndarray, at: np.ndarray, lookback: int, horizon: int,
             season: int | None = None) -> np.ndarray:
    """The origins of ``at`` (m,) whose windows read no missing row. → (m',) int64.

    ``season``: also require the rows seasonal naive copies (for windows that are scored).
    """
    if not at.size or not missing.any():
        return at
    count = _prefix(missing)
    bad = count[at + horizon] - count[at - lookback] > 0
    if season:
        first = at - season
        bad |= count[first + min(horizon, season)] - count[first] > 0
    return np.asarray(at[~bad])


def check_windows(values: np.ndarray, at: np.ndarray, lookback: int, horizon: int) -> None:
    """Raise IncompleteWindowError unless every window at ``at`` reads finite rows only.

    values (n, F), at (m,): O(n·F + m), cheap next to a forward pass.
    """
    if not at.size:
        return
    count = _prefix(missing_rows(values))
    top = np.minimum(at + horizon, len(values))
    bad = count[top] - count[at - lookback] > 0
    if bad.any():
        raise IncompleteWindowError(f"{int(bad.sum())} window(s) would feed non-finite rows to "
                                    f"the network (first origin row {int(at[bad][0])})")


def split_origins(values: np.ndarray, bounds: SplitBounds, lookback: int, horizon: int,
                  season: int, source: str) -> dict[str, np.ndarray]:
    """Origins of every part whose windows read no missing row; DataError if a part has none."""
    missing = missing_rows(values)
    parts: dict[str, np.ndarray] = {
        p: complete(missing, origins(bounds, p, lookback, horizon), lookback, horizon,
                    season if p == "test" else None) for p in PARTS}
    empty = [p for p in PARTS if not parts[p].size]
    if empty:
        raise DataError(
            f"{source}: after keeping the {int(missing.sum())} row(s) with a missing value out "
            f"of every window (--fill drop), the {' and '.join(empty)} part(s) have no complete "
            f"window of lookback {lookback} + horizon {horizon}. Fix: fill in the missing "
            "values, use --fill interpolate, or a shorter --lookback or --horizon.")
    return parts


def cost_note(kept_out: int, kept: dict[str, int], total: dict[str, int]) -> str:
    """One line for the run's fixes: rows kept out and the windows that cost, per part."""
    lost = sum(total.values()) - sum(kept.values())
    per = ", ".join(f"{p} {kept[p]} of {total[p]}" for p in total)
    return (f"kept {kept_out} row(s) with a missing value out of every window (--fill drop): "
            f"{lost} of {sum(total.values())} windows left out (windows kept: {per})")


def split_note(values: np.ndarray, bounds: SplitBounds, parts: dict[str, np.ndarray],
               lookback: int, horizon: int) -> str | None:
    """``cost_note`` for one series split by ``bounds``; None when no row was kept out."""
    kept_out = int(missing_rows(values).sum())
    if not kept_out:
        return None
    return cost_note(kept_out, {p: len(o) for p, o in parts.items()},
                     window_counts(bounds, lookback, horizon))


def stride_windows(missing: np.ndarray, lookback: int, horizon: int) -> tuple[int, int]:
    """(complete, all) stride-1 windows of one series' rows (n,) missing mask."""
    n = len(missing)
    at = np.arange(lookback, n - horizon + 1, dtype=np.int64)
    return len(complete(missing, at, lookback, horizon)), len(at)


def _describe(rows: np.ndarray, lines: np.ndarray, timestamps: pd.DatetimeIndex,
              unit: str = "line") -> str:
    named = [f"{unit} {int(lines[i])} ({timestamps[i]})" if lines[i] > 0
             else f"{timestamps[i]} (timestamp absent from the file)" for i in rows[:SHOWN]]
    more = f" and {len(rows) - SHOWN} more" if len(rows) > SHOWN else ""
    return "; ".join(named) + more


def require_latest(values: np.ndarray, lines: np.ndarray, timestamps: pd.DatetimeIndex,
                   lookback: int, source: str, label: str | None = None,
                   unit: str = "line") -> str | None:
    """None when the last ``lookback`` rows are complete, else what is wrong, in words.

    values (n, F), lines (n,), timestamps (n,): one series' rows. ``source`` (the file) and
    ``label`` (the series) start the message when given. ``unit``: what ``lines`` count, a
    CSV's "line" (header = line 1) or a Parquet file's data "row" (the first is row 1).
    """
    tail = np.flatnonzero(missing_rows(values[-lookback:])) + max(0, len(values) - lookback)
    if not tail.size:
        return None
    where = (f"{source}: " if source else "") + (f"series {label!r}: " if label else "")
    return (f"{where}a forecast needs the latest {lookback} rows (the model's "
            f"lookback) complete, but {len(tail)} of them have a missing value: "
            f"{_describe(tail, lines, timestamps, unit)}. The model was trained with --fill drop, "
            "which keeps such rows out of training windows; a forecast cannot. Fix: fill in "
            "those values in the file, or end the data before them.")


def raise_if_latest_missing(values: np.ndarray, lines: np.ndarray,
                            timestamps: pd.DatetimeIndex, lookback: int, source: str,
                            unit: str = "line") -> None:
    """DataError (65) naming the rows when the last ``lookback`` rows are not complete."""
    problem = require_latest(values, lines, timestamps, lookback, source, unit=unit)
    if problem is not None:
        raise DataError(problem)
