"""Sampling frequency: inference, the seasonal period it implies, and future timestamps."""

from __future__ import annotations

import warnings

import pandas as pd
from pandas.tseries.frequencies import to_offset

_DAY = pd.Timedelta(days=1)
_HOUR = pd.Timedelta(hours=1)
BUSINESS_HOURS = (9, 16)  # pandas' "bh": hours starting 09:00 … 16:00, Monday to Friday


def infer_frequency(index: pd.DatetimeIndex) -> str | None:
    """The pandas offset alias of a sorted index (``"h"``, ``"D"``, ``"MS"`` …).

    Uses ``pd.infer_freq`` when the spacing is perfectly regular; otherwise the most common
    step, so that a series with gaps still gets a frequency (the gaps are then reported).
    Daily steps on weekdays only are business days (``"B"``, ``business_days``): weekends are
    no gaps, missing holidays are. Hourly steps on weekdays from 09:00 to 16:00 only are
    pandas' business hours (``"bh"``, ``office_hours``): nights and weekends are no gaps.
    Repeated timestamps (duplicates reported elsewhere) count once: a zero step is no
    frequency, and stacked series would make it the most common one. Returns ``None`` when
    fewer than two distinct timestamps are given.
    """
    if not index.is_unique:
        index = index.unique()
    if len(index) < 2:
        return None
    if len(index) >= 3:
        with warnings.catch_warnings():  # pandas 3 announces a str → offset return change
            warnings.simplefilter("ignore")
            exact = pd.infer_freq(index)
        if exact is not None:
            return exact if isinstance(exact, str) else str(to_offset(exact).freqstr)
    steps = pd.Series(index[1:] - index[:-1])
    step = steps.mode().iloc[0]
    # Calendar-month data has 28–31 day steps; a plain Timedelta would misplace the next month.
    if pd.Timedelta(days=28) <= step <= pd.Timedelta(days=31):
        return "MS" if all(ts.day == 1 for ts in index[:50]) else "ME"
    if step == _DAY:  # to_offset(1 day) spells "24h"; pd.infer_freq would say "D"
        return "B" if business_days(index) else "D"
    if step == _HOUR and office_hours(index) == BUSINESS_HOURS:
        return "bh"
    return str(to_offset(step).freqstr)


def business_days(index: pd.DatetimeIndex) -> bool:
    """Daily data on weekdays only, with weekends skipped (trading days, sales per working
    day): at least two weeks, no Saturday or Sunday, one time of day, and a Friday followed by
    the Monday after it. Missing holidays are then gaps of the business-day grid."""
    if len(index) < 10 or (index[-1] - index[0]) < pd.Timedelta(days=14):
        return False
    if (index.dayofweek >= 5).any() or len(set(index.time)) > 1:
        return False
    steps = index[1:] - index[:-1]
    return bool(((index[:-1].dayofweek == 4) & (steps == 3 * _DAY)).any())


def office_hours(index: pd.DatetimeIndex) -> tuple[int, int] | None:
    """(first, last) hour of the day of hourly data kept to weekdays and to fixed office hours
    (no Saturday or Sunday, on the hour, at most 16 hours a day, at least two weeks, and a
    Friday's last hour followed by the Monday's first); None for any other index."""
    if len(index) < 10 or (index[-1] - index[0]) < pd.Timedelta(days=14):
        return None
    if (index.dayofweek >= 5).any() or (index.minute != 0).any() or (index.second != 0).any():
        return None
    first, last = int(index.hour.min()), int(index.hour.max())
    if last - first >= 16:
        return None
    steps = index[1:] - index[:-1]
    weekend = ((index[:-1].dayofweek == 4) & (index[:-1].hour == last)
               & (index[1:].dayofweek == 0) & (index[1:].hour == first)
               & (steps < pd.Timedelta(days=3)))
    return (first, last) if bool(weekend.any()) else None


def office_hours_note(index: pd.DatetimeIndex) -> str | None:
    """Why hourly office-hours data (``office_hours``) that is not pandas' 09:00–16:00 grid
    shows nights and weekends as gaps, and what to do; None for other data."""
    hours = office_hours(index)
    if hours is None or hours == BUSINESS_HOURS:
        return None
    return (f"the rows lie on weekdays from {hours[0]:02d}:00 to {hours[1]:02d}:00 only "
            "(office hours, times as stored, UTC for zoned data): pandas' business-hour "
            "frequency covers hours starting 09:00 to 16:00 only, so these nights and weekends "
            "count as missing hours; keep the rows to 09:00-16:00 (then business hours, bh, "
            "are inferred), or resample to daily business days (B)")


def season_length(freq: str) -> int:
    """Seasonal period in steps: a day for sub-daily data, a week for daily, a year otherwise.

    ``"h"`` → 24, ``"15min"`` → 96, ``"D"`` → 7, ``"B"`` → 5, ``"bh"`` → 8, ``"W-SUN"`` → 52,
    ``"MS"`` → 12, ``"QS-OCT"`` → 4; anything yearly or unknown → 1 (no seasonality).
    """
    offset = to_offset(freq)
    name = offset.rule_code.upper()
    if name.startswith("B") and name in ("B", "C"):
        return 5
    if name in ("BH", "CBH"):
        return BUSINESS_HOURS[1] - BUSINESS_HOURS[0] + 1  # a business day: 8 hours
    try:
        step = pd.Timedelta(offset)  # type: ignore[arg-type]  # Tick offsets convert
    except (ValueError, TypeError):
        step = None
    if step is not None and step < _DAY:
        return max(1, round(_DAY / step))
    if step is not None and step == _DAY:
        return 7
    if name.startswith("W"):
        return 52
    if name.startswith(("MS", "ME", "M", "SM")):
        return 12
    if name.startswith(("Q", "BQ")):
        return 4
    return 1


def future_index(last: pd.Timestamp, freq: str, horizon: int) -> pd.DatetimeIndex:
    """The ``horizon`` timestamps that follow ``last`` at frequency ``freq``. Shape (horizon,)."""
    return pd.date_range(start=last, periods=horizon + 1, freq=freq)[1:]


def steps_between(a: pd.Timestamp, b: pd.Timestamp, freq: str) -> int:
    """Steps of ``freq`` from ``a`` to ``b`` (negative when b is earlier), both on one grid:
    the timestamp of row r of a series is ``steps_between(first, ·) = r`` rows after its
    first. A fixed step divides; a calendar one (MS, B, W…) counts the grid between them."""
    if b < a:
        return -steps_between(b, a, freq)
    offset = to_offset(freq)
    try:
        nanos = offset.nanos
    except ValueError:
        nanos = 0
    if nanos > 0:
        return int((b - a).value // nanos)
    return len(pd.date_range(a, b, freq=offset)) - 1


MAX_DEFAULT_HORIZON = 96
MAX_DEFAULT_LOOKBACK = 336


def window_lengths(freq: str, season: int | None = None, horizon: int | None = None,
                   lookback: int | None = None) -> tuple[int, int, int]:
    """(season, horizon, lookback), each taken as given or derived from the frequency.

    season: ``season_length``. horizon: one season, at most 96 steps. lookback: two horizons or
    two seasons (at most 336 steps), whichever is longer, and at least 8, so the network sees a
    full cycle without sub-hourly data asking for thousands of steps.
    """
    season = season or season_length(freq)
    horizon = horizon or min(season, MAX_DEFAULT_HORIZON)
    lookback = lookback or max(2 * horizon, min(2 * season, MAX_DEFAULT_LOOKBACK), 8)
    return season, horizon, lookback
