"""Point-forecast error metrics in original units.

All take ``actual`` and ``forecast`` of the same shape (…, k), k target columns, and pool over
every axis but the last before averaging over columns, so one number describes the whole set.
"""

from __future__ import annotations

import math

import numpy as np

METRICS = ("mae", "rmse", "mape", "smape", "mase")
# |actual| below this is treated as zero by MAPE, which is undefined there.
MAPE_EPS = 1e-8


def _flat(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1, a.shape[-1])


def mae(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(actual - forecast)))


def rmse(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((actual - forecast) ** 2)))


def mape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean absolute percentage error in %, over cells where |actual| > 0; NaN if there are none."""
    mask = np.abs(actual) > MAPE_EPS
    if not mask.any():
        return math.nan
    return float(100.0 * np.mean(np.abs((actual[mask] - forecast[mask]) / actual[mask])))


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Symmetric MAPE in % (0–200): 200·|a − f| / (|a| + |f|), with 0/0 counted as 0."""
    denom = np.abs(actual) + np.abs(forecast)
    ratio = np.divide(np.abs(actual - forecast), denom, out=np.zeros_like(denom),
                      where=denom > 0)
    return float(200.0 * np.mean(ratio))


def mase_scale(train_values: np.ndarray, season: int) -> np.ndarray:
    """In-sample seasonal-naive MAE per column: mean |y_t − y_{t−m}| over training rows.

    train_values (n, k) → (k,). ``season`` falls back to 1 when the training part is shorter
    than one season plus one row. Pairs with a NaN row (``--fill drop``) are left out; a column
    with no complete pair gets NaN.
    """
    m = season if len(train_values) > season else 1
    diff = np.abs(train_values[m:] - train_values[:-m])
    if np.isfinite(diff).all():
        return np.asarray(np.mean(diff, axis=0))
    pairs = np.isfinite(diff).sum(axis=0)
    total = np.where(np.isfinite(diff), diff, 0.0).sum(axis=0)
    return np.asarray(np.where(pairs > 0, total / np.maximum(pairs, 1), np.nan))


def mase(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray) -> float:
    """Mean absolute scaled error: per column MAE / scale, averaged over columns.

    A column whose scale is 0 (constant training part) is NaN: no error is meaningful there.
    """
    per_col = np.mean(np.abs(_flat(actual) - _flat(forecast)), axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.where(scale > 0, per_col / np.where(scale > 0, scale, 1.0), np.nan)
    return float(np.mean(scaled))


def score(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray) -> dict[str, float]:
    """Every metric in ``METRICS`` for one forecast."""
    return {"mae": mae(actual, forecast), "rmse": rmse(actual, forecast),
            "mape": mape(actual, forecast), "smape": smape(actual, forecast),
            "mase": mase(actual, forecast, scale)}
