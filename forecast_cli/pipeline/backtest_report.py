"""What a backtest found: per fold and pooled over folds, overall and per series, as JSON.

Within a fold every kept series contributes one window of ``horizon × k`` points. Overall
MAE, RMSE, MAPE and sMAPE pool those points (original units); overall MASE is the mean of
the series' MASE (each scaled by its own fold-training rows), which is the mean scaled error
over the points, leaving out a series whose MASE is undefined (a target constant over its
training rows). Over folds, points are pooled again and MASE is the mean of the folds' MASE.
With one series every number is that series' own, exactly as before series were supported.

In the JSON of several series, each fold lists every series with its rows (``train_rows``,
``val_rows``: 0-based rows of that series), timestamps, scores and intervals; ``series``
holds each series' scores over every fold. One series keeps the report it always had.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from forecast_cli.core.intervals import level_label
from forecast_cli.core.metrics import score
from forecast_cli.core.panel_intervals import SeriesIntervals
from forecast_cli.core.precision import rounded_floats
from forecast_cli.data.frame import Frame
from forecast_cli.io.forecast_output import SCHEMA_VERSION, stamp
from forecast_cli.pipeline.folds import Fold, FoldLayout
from forecast_cli.settings import Settings

Scores = dict[str, dict[str, float]]  # method → metric → value
Coverage = dict[str, dict[str, float]]  # level label → coverage % and mean width


@dataclass(frozen=True)
class FoldResult:
    """One fold: forecasts (S, horizon, k) per method, the actuals and the scores.

    ``folds[i]`` is this fold in kept series ``i``, in rows local to it.
    """

    folds: tuple[Fold, ...]
    actual: np.ndarray
    forecasts: dict[str, np.ndarray]
    scores: Scores  # over every series
    series_scores: tuple[Scores, ...]  # (S,)
    epochs_run: int  # 0 when the network of an earlier fold was reused
    calibration: SeriesIntervals  # of the network that forecast this fold
    intervals: Coverage  # test-window coverage and mean width, overall
    series_intervals: tuple[Coverage, ...]  # (S,) the same per series

    @property
    def fold(self) -> Fold:
        """The first series' fold: its index and refit are every series'; its rows are those
        of the only series of a file without ``--id-col``."""
        return self.folds[0]

    @property
    def calibration_windows(self) -> int:
        """Validation windows of every series that calibrated this fold's intervals."""
        return self.calibration.n_pooled


def mean_finite(values: list[float]) -> float:
    """Mean of the finite values (NaN when none): exactly ``np.mean`` when all are finite."""
    arr = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(arr)
    if ok.all():
        return float(np.mean(arr))
    return float(np.mean(arr[ok])) if ok.any() else math.nan


def fold_scores(actual: np.ndarray, forecasts: dict[str, np.ndarray],
                scales: np.ndarray) -> tuple[Scores, tuple[Scores, ...]]:
    """Overall and per-series scores of one fold. actual, forecasts (S, H, k); scales (S, k)."""
    per = tuple({name: score(actual[i:i + 1], fc[i:i + 1], scales[i])
                 for name, fc in forecasts.items()} for i in range(len(actual)))
    overall = {}
    for name, fc in forecasts.items():
        sc = score(actual, fc, np.ones(actual.shape[-1]))
        sc["mase"] = mean_finite([p[name]["mase"] for p in per])
        overall[name] = sc
    return overall, per


def _pool(actual: list[np.ndarray], forecasts: list[dict[str, np.ndarray]],
          mase: list[dict[str, float]]) -> Scores:
    """Scores over every fold's points; MASE is the mean of the folds' MASE."""
    a = np.concatenate(actual)
    out = {}
    for name in forecasts[0]:
        sc = score(a, np.concatenate([f[name] for f in forecasts]), np.ones(a.shape[-1]))
        sc["mase"] = float(np.mean([m[name] for m in mase]))
        out[name] = sc
    return out


def pool_overall(folds: list[FoldResult]) -> Scores:
    return _pool([r.actual for r in folds], [r.forecasts for r in folds],
                 [{n: sc["mase"] for n, sc in r.scores.items()} for r in folds])


def pool_series(folds: list[FoldResult], i: int) -> Scores:
    """Series ``i``'s scores over every fold."""
    return _pool([r.actual[i:i + 1] for r in folds],
                 [{n: f[i:i + 1] for n, f in r.forecasts.items()} for r in folds],
                 [{n: sc["mase"] for n, sc in r.series_scores[i].items()} for r in folds])


def by_step(folds: list[FoldResult]) -> dict[str, list[float]]:
    """Method → MAE at steps 1…H, over every fold, series and target column."""
    actual = np.concatenate([r.actual for r in folds])  # (K·S, H, k)
    return {name: np.mean(np.abs(np.concatenate([r.forecasts[name] for r in folds]) - actual),
                          axis=(0, 2)).tolist() for name in folds[0].forecasts}


def pool_intervals(per_fold: list[Coverage]) -> Coverage:
    """Mean coverage and width over folds: each fold has the same number of points."""
    if not per_fold or not per_fold[0]:
        return {}
    return {lv: {key: _mean([c[lv].get(key, 0.0) for c in per_fold])
                 for key in ("coverage", "mean_width", "unbounded")} for lv in per_fold[0]}


def _mean(values: list[float]) -> float:
    """Mean over the folds that have a value: NaN (no bounded interval) only when all are."""
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan


@dataclass(frozen=True)
class BacktestResult:
    """Every fold, the pooled scores and the MAE by horizon step, in original units."""

    settings: Settings
    frame: Frame
    layout: FoldLayout  # the series kept and their folds
    folds: list[FoldResult]
    overall: Scores
    by_step: dict[str, list[float]]  # method → MAE at steps 1…H (over folds, series, columns)
    seconds: float
    intervals: Coverage  # mean over folds
    series: dict[str, Scores]  # id → over every fold
    series_intervals: dict[str, Coverage]  # id → mean over folds

    @property
    def panel(self) -> bool:
        """Several series (``--id-col``): the report has per-series sections."""
        return self.frame.id_col is not None

    @property
    def warnings(self) -> tuple[str, ...]:
        """Series left out as too short, in words."""
        return self.layout.warnings

    def first_targets(self, r: FoldResult) -> list[Any]:
        """Timestamp of fold ``r``'s first target in each series. (S,)."""
        return [self.frame.timestamps[a + f.origin]
                for a, f in zip(self.layout.starts.tolist(), r.folds, strict=True)]

    def to_json(self, precision: int | None = None) -> dict[str, Any]:
        """The report; its scores, coverages and widths to ``precision`` decimal places
        (``--precision``; None: every digit), the settings and seconds as they are."""
        out = {"schema_version": SCHEMA_VERSION, "data": str(self.frame.path),
               "settings": self.settings.to_json(),
               "folds": [self._fold_json(r) for r in self.folds],
               "overall": self.overall, "by_step_mae": self.by_step,
               "intervals": {"method": "split-conformal on each fitted fold's validation "
                                       "windows" + (", per series" if self.panel else ""),
                             "test": self.intervals},
               "seconds": round(self.seconds, 2)}
        if self.panel:
            out.update({"id_col": self.frame.id_col, "series_count": len(self.layout.ids),
                        "skipped": list(self.layout.skipped),
                        "warnings": list(self.layout.warnings),
                        "series": {sid: {"overall": self.series[sid],
                                         "intervals": self.series_intervals[sid]}
                                   for sid in self.layout.ids}})
            if self.layout.short_ids:  # series backtested on padded windows
                out["short_history"] = list(self.layout.short_ids)
        kept = ("settings", "seconds")
        return {k: v if k in kept else rounded_floats(v, precision) for k, v in out.items()}

    def _rows_json(self, start: int, f: Fold) -> dict[str, Any]:
        ts, tz = self.frame.timestamps, self.frame.tz
        return {"train_rows": [f.train_start, f.origin], "val_rows": [f.val_start, f.origin],
                "origin": stamp(ts[start + f.origin - 1], tz),
                "first_target": stamp(ts[start + f.origin], tz)}

    def _fold_json(self, r: FoldResult) -> dict[str, Any]:
        head = {"fold": r.fold.index + 1}
        tail = {"refit": r.fold.refit, "epochs_run": r.epochs_run, "scores": r.scores,
                "intervals": {"calibration_windows": r.calibration_windows,
                              "test": r.intervals}}
        if not self.panel:
            return {**head, **self._rows_json(0, r.fold), **tail}
        cal, levels = r.calibration.series, [level_label(lv) for lv in r.calibration.levels]
        series = {sid: {**self._rows_json(int(self.layout.starts[i]), r.folds[i]),
                        "scores": r.series_scores[i],
                        "intervals": {"calibration": dict(zip(levels, cal[sid].methods,
                                                              strict=True)),
                                      "n_calibration": cal[sid].n_calibration,
                                      "test": r.series_intervals[i]}}
                  for i, sid in enumerate(self.layout.ids)}
        return {**head, **tail, "series": series}
