"""Score the model and the naive baselines on identical test windows, in original units."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast_cli.core import metrics
from forecast_cli.core.baselines import MODEL as MODEL  # re-exported: the names live with the
from forecast_cli.core.baselines import NAIVE as NAIVE  # baselines so that render needs no pandas
from forecast_cli.core.baselines import SEASONAL as SEASONAL
from forecast_cli.core.baselines import naive, seasonal_naive


@dataclass(frozen=True)
class Evaluation:
    """Forecasts of every method on the same windows, and their scores.

    forecasts : method → (m, horizon, k) in original units; ``actual`` has the same shape.
    scores : method → metric → value.
    """

    actual: np.ndarray
    forecasts: dict[str, np.ndarray]
    scores: dict[str, dict[str, float]]

    def skill(self, baseline: str, metric: str = "mase") -> float:
        """1 − model/baseline for ``metric``: > 0 means the model beats the baseline."""
        ours, theirs = self.scores[MODEL][metric], self.scores[baseline][metric]
        if not theirs or math.isnan(theirs) or math.isnan(ours):
            return math.nan
        return 1.0 - ours / theirs


def baseline_forecasts(values: np.ndarray, origins: np.ndarray, horizon: int,
                       season: int) -> dict[str, np.ndarray]:
    """Naive and seasonal-naive forecasts. values (n, k) in original units → (m, horizon, k)."""
    return {NAIVE: naive(values, origins, horizon),
            SEASONAL: seasonal_naive(values, origins, horizon, season)}


def evaluate(actual: np.ndarray, forecasts: dict[str, np.ndarray],
             mase_scale: np.ndarray) -> Evaluation:
    """Score each forecast (m, horizon, k) against ``actual`` (m, horizon, k)."""
    scores = {name: metrics.score(actual, f, mase_scale) for name, f in forecasts.items()}
    return Evaluation(actual=actual, forecasts=forecasts, scores=scores)


def forecasts_table(ev: Evaluation, timestamps: pd.DatetimeIndex, origins: np.ndarray,
                    targets: tuple[str, ...],
                    extra: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Long table: one row per window × step × target column.

    Columns: origin (timestamp of the last input row), timestamp (of the target), step (1…H),
    target, actual, then one column per method, then one per ``extra`` array (m, H, k), such
    as interval bounds.
    """
    m, horizon, k = ev.actual.shape
    grid = np.meshgrid(np.arange(m), np.arange(horizon), np.arange(k), indexing="ij")
    win, step, col = (g.ravel() for g in grid)
    rows = origins[win] + step
    table = pd.DataFrame({
        "origin": timestamps[origins[win] - 1],
        "timestamp": timestamps[rows],
        "step": step + 1,
        "target": np.asarray(targets, dtype=object)[col],
        "actual": ev.actual.ravel(),
    })
    for name, f in {**ev.forecasts, **(extra or {})}.items():
        table[name] = f.ravel()
    return table
