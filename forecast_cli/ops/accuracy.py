"""Realised accuracy: score a forecast made earlier against the actuals that arrived since.

A forecast is scored once, when every one of its points has an actual in the data. MAE is in
the target's units; MASE divides each target's MAE by the in-sample seasonal-naive MAE of the
data up to the forecast's origin (what the forecaster could know); coverage is the share of
actuals inside ``[lower, upper]`` and is only given when the forecast had intervals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from forecast_cli.core.metrics import mase_scale
from forecast_cli.data.frame import Frame


def _coverage(points: Sequence[dict[str, Any]], actual: np.ndarray) -> float | None:
    lower = [p.get("lower") for p in points]
    upper = [p.get("upper") for p in points]
    if any(v is None for v in lower + upper):
        return None
    inside = (np.asarray(lower, float) <= actual) & (actual <= np.asarray(upper, float))
    return float(np.mean(inside))


def score_forecast(points: Sequence[dict[str, Any]], origin: str, frame: Frame,
                   season: int) -> dict[str, Any] | None:
    """Scores of one forecast (points: timestamp, target, value[, lower, upper]) or ``None``.

    ``None`` while some point has no actual yet, or names a column the data no longer has.
    """
    if not points or any(p["target"] not in frame.columns for p in points):
        return None
    rows = frame.timestamps.get_indexer(pd.DatetimeIndex([p["timestamp"] for p in points]))
    if (rows < 0).any():
        return None
    cols = np.asarray([frame.columns.index(p["target"]) for p in points])
    actual = frame.values[rows, cols]  # (P,)
    error = np.abs(actual - np.asarray([p["value"] for p in points], float))  # (P,)
    known = frame.values[frame.timestamps <= pd.Timestamp(origin)]  # (n0, k)
    per_target = []
    for col in np.unique(cols):
        scale = float(mase_scale(known[:, [col]], season)[0]) if len(known) > 1 else math.nan
        mae_col = float(error[cols == col].mean())
        per_target.append(mae_col / scale if scale > 0 else math.nan)
    return {"points": len(points), "mae": float(error.mean()),
            "mase": float(np.mean(per_target)), "coverage": _coverage(points, actual)}


def interval_columns(table: pd.DataFrame, target: str) -> tuple[str, str] | None:
    """The lower/upper columns of ``target`` in a forecast table, when it has intervals."""
    for lower, upper in ((f"{target}_lower", f"{target}_upper"),
                         (f"{target}_lo", f"{target}_hi")):
        if lower in table.columns and upper in table.columns:
            return lower, upper
    if len(table.columns) and {"lower", "upper"} <= set(table.columns):
        return "lower", "upper"
    return None


def forecast_points(table: pd.DataFrame, targets: Sequence[str]) -> list[tuple[Any, ...]]:
    """Rows (timestamp, step, target, value, lower, upper) of a forecast table, for storage."""
    out: list[tuple[Any, ...]] = []
    for target in targets:
        bounds = interval_columns(table, target)
        for i in range(len(table)):
            row = table.iloc[i]
            lo = float(row[bounds[0]]) if bounds else None
            hi = float(row[bounds[1]]) if bounds else None
            out.append((pd.Timestamp(row["timestamp"]).isoformat(), int(row["step"]), target,
                        float(row[target]), lo, hi))
    return out
