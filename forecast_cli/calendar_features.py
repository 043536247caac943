"""Calendar inputs (``--calendar``): sine/cosine pairs of the position in the day, week and
year, chosen by the sampling frequency and computed from the timestamps alone.

They are deterministic functions of time, so ``predict`` recomputes them from the new data's
timestamps; the bundle records only that they were used (``settings.calendar``) and their names
(the last entries of ``config.json`` data.inputs). On a regular grid the network sees the
calendar phase of every lookback row, which fixes the phase of every forecast step too.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from forecast_cli.data import Frame
from forecast_cli.errors import DataError

PREFIX = "cal_"
_HOUR, _DAY = pd.Timedelta(hours=1), pd.Timedelta(days=1)


def cycles(freq: str) -> list[str]:
    """The cycles worth encoding at ``freq``: finer data gets the coarser cycles too."""
    offset = to_offset(freq)
    try:
        step = pd.Timedelta(offset)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        step = None
    name = offset.name.upper()
    if step is not None and step < _DAY:
        return ["hour", "weekday", "year"]
    if (step is not None and step == _DAY) or name in ("D", "B", "C"):
        return ["weekday", "year"]
    if name.startswith(("W", "M", "SM", "Q", "BQ")):
        return ["year"]
    return []


def _phase(index: pd.DatetimeIndex, cycle: str) -> np.ndarray:
    """Position in the cycle as a fraction in [0, 1). Shape (n,)."""
    if cycle == "hour":
        return np.asarray((index.hour + index.minute / 60) / 24)
    if cycle == "weekday":
        return np.asarray(index.dayofweek / 7)
    return np.asarray((index.dayofyear - 1) / 365.25)


def names(freq: str) -> list[str]:
    return [f"{PREFIX}{c}_{fn}" for c in cycles(freq) for fn in ("sin", "cos")]


def values(index: pd.DatetimeIndex, freq: str) -> np.ndarray:
    """(n, 2·cycles) sine and cosine of each cycle's phase, in ``names(freq)`` order."""
    cols = []
    for cycle in cycles(freq):
        angle = 2 * np.pi * _phase(index, cycle)
        cols += [np.sin(angle), np.cos(angle)]
    return np.column_stack(cols) if cols else np.empty((len(index), 0))


def with_calendar(frame: Frame) -> Frame:
    """The frame with calendar columns appended after its own columns."""
    added = names(frame.freq)
    if not added:
        raise DataError(f"{frame.path}: --calendar adds nothing at frequency {frame.freq!r} "
                        "(no cycle shorter than the data's span); leave it out.")
    clash = [n for n in added if n in frame.columns]
    if clash:
        raise DataError(f"{frame.path}: column(s) {', '.join(clash)} clash with --calendar "
                        "inputs; rename them.")
    return replace(frame, columns=(*frame.columns, *added),
                   values=np.hstack([frame.values, values(frame.timestamps, frame.freq)]))
