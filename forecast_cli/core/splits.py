"""Chronological train / validation / test split and the windows that belong to each part.

Rows ``[0, train_end)`` train, ``[train_end, val_end)`` validate, ``[val_end, n)`` test. A window
is identified by its *origin* ``t``, the row of its first target: inputs are rows
``[t - lookback, t)``, targets rows ``[t, t + horizon)``. A window belongs to a split when all of
its targets lie inside that split; its inputs may reach back into earlier rows (never later ones),
so no target of a later split is ever seen while fitting an earlier one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from forecast_cli.errors import DataError

Part = Literal["train", "val", "test"]
PARTS: tuple[Part, ...] = ("train", "val", "test")


@dataclass(frozen=True)
class SplitBounds:
    """Row boundaries of the three parts of a series of ``n`` rows."""

    n: int
    train_end: int
    val_end: int

    def rows(self, part: Part) -> tuple[int, int]:
        """Half-open row range ``[start, stop)`` of ``part``."""
        return {"train": (0, self.train_end), "val": (self.train_end, self.val_end),
                "test": (self.val_end, self.n)}[part]


def split_bounds(n: int, train_frac: float, val_frac: float) -> SplitBounds:
    """Cut ``n`` rows by fraction; the test part takes what is left, so nothing is dropped."""
    train_end = round(n * train_frac)
    val_end = train_end + round(n * val_frac)
    return SplitBounds(n=n, train_end=min(train_end, n), val_end=min(val_end, n))


def origins(bounds: SplitBounds, part: Part, lookback: int, horizon: int) -> np.ndarray:
    """Origins (first target rows) of every stride-1 window of ``part``. Shape (m,), int64."""
    start, stop = bounds.rows(part)
    first = max(start, lookback)
    last = stop - horizon  # inclusive: targets [last, last + horizon) end at stop
    if last < first:
        return np.empty(0, dtype=np.int64)
    return np.arange(first, last + 1, dtype=np.int64)


def window_counts(bounds: SplitBounds, lookback: int, horizon: int) -> dict[str, int]:
    """Number of windows in each part."""
    return {p: len(origins(bounds, p, lookback, horizon)) for p in PARTS}


def _all_parts_have_windows(n: int, train_frac: float, val_frac: float,
                            lookback: int, horizon: int) -> bool:
    counts = window_counts(split_bounds(n, train_frac, val_frac), lookback, horizon)
    return all(c > 0 for c in counts.values())


def min_rows(train_frac: float, val_frac: float, lookback: int, horizon: int) -> int:
    """Fewest rows that give every part at least one window under these settings."""
    n = lookback + 3 * horizon
    while not _all_parts_have_windows(n, train_frac, val_frac, lookback, horizon):
        n += 1
    return n


def check_length(n: int, train_frac: float, val_frac: float, lookback: int, horizon: int,
                 source: str) -> SplitBounds:
    """Bounds for ``n`` rows, or DataError giving the exact number of rows needed."""
    bounds = split_bounds(n, train_frac, val_frac)
    counts = window_counts(bounds, lookback, horizon)
    if all(c > 0 for c in counts.values()):
        return bounds
    need = min_rows(train_frac, val_frac, lookback, horizon)
    raise DataError(
        f"{source}: series too short: need ≥ {need} rows for lookback {lookback} + horizon "
        f"{horizon} with train/val/test fractions {train_frac:g}/{val_frac:g}/"
        f"{1 - train_frac - val_frac:g}, got {n} (windows per part: "
        + ", ".join(f"{k} {v}" for k, v in counts.items()) + "). Use a shorter lookback or "
        "horizon, or more data."
    )
