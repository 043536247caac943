"""Realised accuracy: score a forecast made earlier against the actuals that arrived since.

A forecast is scored once, when every one of its points has a row in the data (same series,
same timestamp). MAE is in the target's units; MASE divides each target's MAE by the
in-sample seasonal-naive MAE of its series' data before its first forecast step (what the
forecaster could know); coverage, per interval level, is the share of actuals inside
``[lower, upper]`` and is only given when the forecast had intervals. A forecast of many
series (``id_col``) is also scored per series. An actual that is missing in the data (a row
kept out with ``fill = "drop"``) is left out of the scores.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forecast_cli.core.intervals import level_label
from forecast_cli.core.metrics import mase_scale
from forecast_cli.data.frame import Frame
from forecast_cli.model.bundle import Bundle
from forecast_cli.ops.history_schema import BOUND_FIELDS as BOUND_FIELDS
from forecast_cli.ops.history_schema import POINT_FIELDS as POINT_FIELDS

SINGLE = ""  # the series name of a job's only series (no id_col)


@dataclass(frozen=True)
class Score:
    """Realised accuracy of a forecast, or of one of its series."""

    points: int  # points scored (those with an actual)
    mae: float
    mase: float
    coverage: dict[float, tuple[int, int]] = field(default_factory=dict)  # level → (inside, n)

    def shares(self) -> dict[float, float]:
        """Realised coverage per level: the share of actuals inside the interval."""
        return {lv: inside / n for lv, (inside, n) in self.coverage.items() if n}

    def to_json(self) -> dict[str, Any]:
        shares = self.shares()
        return {"points": self.points, "mae": self.mae, "mase": self.mase,
                "coverage": {level_label(lv): c for lv, c in shares.items()} or None}


@dataclass(frozen=True)
class Realised:
    """A forecast's scores: all of it, and each series of a many-series forecast."""

    overall: Score
    series: dict[str, Score] = field(default_factory=dict)  # empty for one series

    def to_json(self) -> dict[str, Any]:
        """As ``forecast history --json`` shows it: the overall scores, then per series."""
        return {**self.overall.to_json(),
                "series": [{"series": sid, **s.to_json()} for sid, s in self.series.items()]}


def _series_rows(frame: Frame) -> dict[str, tuple[int, int]]:
    """Series name → its rows ``[a, b)`` in the frame (one series: ``SINGLE``)."""
    edges = frame.bounds()
    if frame.id_col is None:
        return {SINGLE: (0, len(frame.values))}
    return {sid: (int(edges[i]), int(edges[i + 1])) for i, sid in enumerate(frame.series_ids)}


def _rows(points: Sequence[dict[str, Any]], frame: Frame) -> np.ndarray | None:
    """The frame row of each point's actual (P,), or None while one has no row yet."""
    blocks = _series_rows(frame)
    if any(p["target"] not in frame.columns or p["series"] not in blocks for p in points):
        return None
    rows = np.empty(len(points), np.int64)
    by_series: dict[str, list[int]] = {}
    for i, p in enumerate(points):
        by_series.setdefault(p["series"], []).append(i)
    for sid, idx in by_series.items():
        a, b = blocks[sid]
        wanted = pd.DatetimeIndex([points[i]["timestamp"] for i in idx])
        found = frame.timestamps[a:b].get_indexer(wanted)  # unique within a series
        if (found < 0).any():
            return None
        rows[idx] = a + found
    return rows


def _coverage(points: Sequence[dict[str, Any]], bounds: Sequence[dict[str, Any]],
              actual: dict[tuple[str, str, str], float], sids: set[str]
              ) -> dict[float, tuple[int, int]]:
    """level → (inside, n) over the bounds of series ``sids`` whose actual is known."""
    out: dict[float, tuple[int, int]] = {}
    for b in bounds:
        key = (b["series"], b["timestamp"], b["target"])
        if b["series"] not in sids or key not in actual:
            continue
        inside, n = out.get(float(b["level"]), (0, 0))
        hit = float(b["lower"]) <= actual[key] <= float(b["upper"])
        out[float(b["level"])] = (inside + int(hit), n + 1)
    return dict(sorted(out.items()))


def score_forecast(points: Sequence[dict[str, Any]], bounds: Sequence[dict[str, Any]],
                   origin: str, frame: Frame, season: int) -> Realised | None:
    """Scores of one forecast, or ``None`` while some point has no row in the data yet.

    points: dicts of POINT_FIELDS; bounds: dicts of BOUND_FIELDS (none without intervals).
    ``None`` also when a point names a column or series the data no longer has, or when no
    point has an actual (all kept out).
    """
    rows = None if not points else _rows(points, frame)
    if rows is None:
        return None
    cols = np.asarray([frame.columns.index(p["target"]) for p in points])
    actual = frame.values[rows, cols]  # (P,)
    known = np.isfinite(actual)
    if not known.any():
        return None
    error = np.abs(actual - np.asarray([p["value"] for p in points], float))  # (P,)
    series = np.asarray([p["series"] for p in points], dtype=object)
    blocks = _series_rows(frame)
    by_key = {(p["series"], p["timestamp"], p["target"]): float(a)
              for p, a, k in zip(points, actual, known, strict=True) if k}
    scores: dict[str, Score] = {}
    ratios: list[float] = []  # MAE / scale of every (series, target)
    for sid in sorted(set(series)):
        a, b = blocks[sid]
        mine = (series == sid) & known
        # what was known of this series when the forecast was made: its rows before its first
        # forecast step (a series that ended before the origin has actuals there since)
        first = pd.Timestamp(frame.timestamps[rows[series == sid]].min())
        stamps = frame.timestamps[a:b]
        history = frame.values[a:b][(stamps < first) & (stamps <= pd.Timestamp(origin))]
        own: list[float] = []
        for col in np.unique(cols[mine]):
            scale = (float(mase_scale(history[:, [col]], season)[0]) if len(history) > 1
                     else math.nan)
            mae_col = float(error[mine & (cols == col)].mean())
            own.append(mae_col / scale if scale > 0 else math.nan)
        ratios += own
        scores[sid] = Score(points=int(mine.sum()), mae=float(error[mine].mean()),
                            mase=float(np.mean(own)) if own else math.nan,
                            coverage=_coverage(points, bounds, by_key, {sid}))
    overall = Score(points=int(known.sum()), mae=float(error[known].mean()),
                    mase=float(np.mean(ratios)) if ratios else math.nan,
                    coverage=_coverage(points, bounds, by_key, set(scores)))
    many = any(sid != SINGLE for sid in scores)
    return Realised(overall=overall, series=scores if many else {})


def interval_levels(bundle: Bundle) -> tuple[float, ...]:
    """The interval levels a bundle's forecasts carry (80, 95 …); none without intervals."""
    calibrated = bundle.series_intervals or bundle.intervals
    return tuple(calibrated.levels) if calibrated is not None else ()


def forecast_points(table: pd.DataFrame, targets: Sequence[str],
                    levels: Sequence[float] = (), id_col: str | None = None
                    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Rows of a forecast table for storage: (POINT_FIELDS tuples, BOUND_FIELDS tuples).

    table: columns [id_col,] timestamp, step, one per target, and ``{target}_lower_{level}``
    / ``{target}_upper_{level}`` per level (as ``forecasting.predict`` writes them). A bound
    that is NaN is not stored; an infinite one is (nothing was calibrated at that level).
    """
    n = len(table)
    stamps = [pd.Timestamp(t).isoformat() for t in table["timestamp"]]
    steps = table["step"].to_numpy()
    ids = (table[id_col].astype(str).to_numpy() if id_col and id_col in table.columns
           else np.full(n, SINGLE, dtype=object))
    points: list[tuple[Any, ...]] = []
    bounds: list[tuple[Any, ...]] = []
    for target in targets:
        values = table[target].to_numpy(dtype=float)
        points += [(str(ids[i]), stamps[i], int(steps[i]), target, float(values[i]))
                   for i in range(n)]
        for level in levels:
            lo_col = f"{target}_lower_{level_label(level)}"
            hi_col = f"{target}_upper_{level_label(level)}"
            if lo_col not in table.columns or hi_col not in table.columns:
                continue
            lo, hi = table[lo_col].to_numpy(dtype=float), table[hi_col].to_numpy(dtype=float)
            bounds += [(str(ids[i]), stamps[i], target, float(level), float(lo[i]),
                        float(hi[i])) for i in range(n)
                       if not (math.isnan(lo[i]) or math.isnan(hi[i]))]
    return points, bounds
