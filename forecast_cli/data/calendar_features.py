"""Calendar inputs (``--calendar``): sine/cosine pairs of the position in the day, week and
year, chosen by the sampling frequency and computed from the timestamps alone.

They are deterministic functions of time, so they are known for the future too. The network
receives them twice (``model.build_network``):

- in the past window: the ``names(freq)`` columns appended to the frame (``with_calendar``),
  scaled with the other inputs, one row per lookback step: window (B, lookback, F);
- for the forecast horizon: the unscaled values of the target rows t … t+horizon−1 of origin
  t, future (B, horizon, n_future) with ``n_future = len(names(freq))``
  (``NetworkSpec.n_future``). In training and evaluation these rows are in the data
  (``future_columns``); at predict time they lie after it, and ``horizon_values`` computes
  them from the timestamps that follow the last one at the data's frequency.

The bundle records that they were used (``settings.calendar``), their names (the last entries
of ``config.json`` data.inputs) and ``network.n_future``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from forecast_cli.data.frame import Frame
from forecast_cli.data.frequency import future_index
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
    name = offset.rule_code.upper()
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
        return np.asarray(index.day_of_week / 7)
    return np.asarray((index.day_of_year - 1) / 365.25)


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


def future_columns(frame: Frame, n_future: int) -> np.ndarray | None:
    """The calendar columns of a frame made by ``with_calendar``, unscaled: (n, n_future), or
    None when ``n_future`` is 0. They are the frame's last columns."""
    if n_future == 0:
        return None
    expected = names(frame.freq)
    if len(expected) != n_future or tuple(frame.columns[-n_future:]) != tuple(expected):
        raise DataError(f"{frame.path}: the model needs {n_future} calendar inputs per forecast "
                        f"step, but the data gives {', '.join(expected) or 'none'} at frequency "
                        f"{frame.freq!r}; predict with data like the training data, or retrain.")
    return frame.values[:, -n_future:]


def horizon_values(lasts: Sequence[pd.Timestamp], freq: str, horizon: int) -> np.ndarray:
    """Calendar values of the ``horizon`` steps after each timestamp in ``lasts``, at ``freq``
    (the steps ``frequency.future_index`` gives). Shape (len(lasts), horizon, 2·cycles)."""
    return np.stack([values(future_index(last, freq, horizon), freq) for last in lasts])
