"""Recent values against the range a model has seen, with the magnitude in the message.

The range is the training rows' (the scaler's) widened by every row seen at training, test rows
too (config.json's ``data.seen``; bundles made before it have only the scaler's): a trending
series predicted right after training lies in the range its test evaluation covered, which is
no news. A panel gets one line for all its series, naming the worst.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecast_cli.core.scaling import RANGE_SLACK, Scaler
from forecast_cli.data.frame import Frame
from forecast_cli.model.schema import DataSchema


@dataclass(frozen=True)
class Outside:
    """The column of one series whose recent values lie furthest outside the range seen."""

    column: str
    value: float  # the most extreme recent value
    ranges: float  # how far beyond the range, in widths of the range
    low: float
    high: float

    def words(self) -> str:
        side, edge = ("above", "up to") if self.value > self.high else ("below", "down to")
        return (f"recent values {edge} {self.value:g} lie {self.ranges:.1f} ranges {side} "
                f"[{self.low:g}, {self.high:g}], the range seen in training")


def seen_ranges(frame: Frame) -> dict[str, dict[str, list[float]]]:
    """Per series (id "" without --id-col): the min and max of every input over all its rows."""
    ids = frame.series_ids if frame.id_col is not None else ("",)
    edges, out = frame.bounds(), {}
    for i, sid in enumerate(ids):
        rows = frame.values[int(edges[i]):int(edges[i + 1])]
        if not len(rows):
            continue
        low, high = np.fmin.reduce(rows, axis=0), np.fmax.reduce(rows, axis=0)
        if np.isfinite(low).all() and np.isfinite(high).all():
            out[str(sid)] = {"data_min": low.tolist(), "data_max": high.tolist()}
    return out


def worst_outside(window: np.ndarray, scaler: Scaler, schema: DataSchema, sid: str,
                  checked: np.ndarray, columns: tuple[str, ...]) -> Outside | None:
    """The column of ``window`` (lookback, F) furthest beyond ``RANGE_SLACK`` ranges outside the
    range seen for series ``sid``, or None when every checked column lies within it."""
    seen = schema.seen.get(sid)
    if seen is not None:
        scaler = scaler.widened(seen["data_min"], seen["data_max"])
    low, high = scaler.data_min, scaler.data_max
    width = np.maximum(high - low, 1e-12)
    top, bottom = np.fmax.reduce(window, axis=0), np.fmin.reduce(window, axis=0)
    above, below = (top - high) / width, (low - bottom) / width
    beyond = np.where(checked, np.fmax(above, below), -np.inf)
    j = int(np.nanargmax(np.nan_to_num(beyond, nan=-np.inf)))
    if not beyond[j] > RANGE_SLACK:
        return None
    value = top[j] if above[j] >= below[j] else bottom[j]
    return Outside(columns[j], float(value), float(beyond[j]), float(low[j]), float(high[j]))


def panel_line(outside: dict[str, Outside], checked: int) -> str | None:
    """One warning for the series of a panel whose recent values lie far outside their range."""
    if not outside:
        return None
    sid, worst = max(outside.items(), key=lambda item: item[1].ranges)
    column = f", column {worst.column!r}" if worst.column else ""
    return (f"{len(outside)} of {checked} series have recent values far outside the range seen "
            f"in training; worst {sid!r}{column}: {worst.words()}; their forecasts may be "
            "unreliable.")
