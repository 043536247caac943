"""``forecast backtest``: rolling-origin evaluation of the LSTM against naive baselines.

Fold ``i`` of ``K`` (0-based) forecasts the ``horizon`` rows from its origin
``o_i = n − horizon − (K − 1 − i)·step``, so the last fold ends at the last row and origins are
``step`` rows apart. Its training part is rows ``[start_i, o_i)``: ``start_i = 0`` for an
expanding window, ``o_i − o_0`` for a sliding one (the length of fold 0's part). The last
``val_share`` of the training part (``val_frac / (train_frac + val_frac)``) is held out for early
stopping and the scaler is fitted on the rest, so nothing at or after the origin is ever seen.
With ``refit_every = k`` a network is fitted at folds 0, k, 2k … and reused (with its scaler)
by the folds in between, which still forecast from their own most recent ``lookback`` rows.

Prediction intervals: each fitted network is calibrated by split conformal prediction on the
validation windows of the fold it was fitted at (``intervals.calibrate``, original units), and
every fold reports the empirical coverage and mean width of those intervals on its own test
window; overall is their mean (every fold has the same horizon × targets points).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli.core.evaluation import MODEL, NAIVE, SEASONAL, baseline_forecasts
from forecast_cli.core.intervals import Intervals, calibrate, coverage
from forecast_cli.core.metrics import mase_scale, score
from forecast_cli.core.scaling import Scaler
from forecast_cli.data import calendar_features
from forecast_cli.data.frame import Frame
from forecast_cli.errors import DataError
from forecast_cli.settings import Settings


@dataclass(frozen=True)
class Fold:
    """Row boundaries of one fold. Rows are 0-based; ranges half-open."""

    index: int
    train_start: int  # first row of the training part
    val_start: int  # first row held out for early stopping; training part ends at ``origin``
    origin: int  # first forecast row: targets are rows [origin, origin + horizon)
    fitted_at: int  # index of the fold whose network (and scaler) forecasts this one

    @property
    def refit(self) -> bool:
        return self.fitted_at == self.index


def fold_plan(n: int, lookback: int, horizon: int, folds: int, step: int, window: str,
              val_share: float, refit_every: int, source: str = "data") -> list[Fold]:
    """The folds of a rolling-origin backtest over ``n`` rows; DataError when too short."""
    first = n - horizon - (folds - 1) * step  # origin of fold 0 = length of its training part
    plan = []
    for i in range(folds):
        origin = first + i * step
        start = 0 if window == "expanding" else origin - first
        val_start = origin - round((origin - start) * val_share)
        plan.append(Fold(i, start, val_start, origin, i - i % refit_every))
    _check_plan(plan[0], n, lookback, horizon, folds, step, source)
    return plan


def _check_plan(f: Fold, n: int, lookback: int, horizon: int, folds: int, step: int,
                source: str) -> None:
    """Fold 0 (the shortest history) must have a training and a validation window."""
    train_ok = f.val_start - horizon >= max(f.train_start + lookback, lookback)
    val_ok = f.origin - horizon >= max(f.val_start, f.train_start + lookback)
    if f.origin > 0 and train_ok and val_ok:
        return
    raise DataError(
        f"{source}: series too short for {folds} folds {step} rows apart with lookback "
        f"{lookback} and horizon {horizon}: fold 1 would train on rows [{f.train_start}, "
        f"{f.origin}) of {n}, which leaves no training or validation window. Use fewer "
        "--folds, a smaller --fold-step, a shorter lookback or horizon, or more data.")


def fold_origins(f: Fold, lookback: int, horizon: int) -> dict[str, np.ndarray]:
    """Training and validation window origins of a fold (targets never reach ``f.origin``)."""
    low = max(f.train_start + lookback, lookback)
    return {"train": np.arange(low, f.val_start - horizon + 1, dtype=np.int64),
            "val": np.arange(max(f.val_start, low), f.origin - horizon + 1, dtype=np.int64)}


@dataclass(frozen=True)
class FoldResult:
    """One fold's forecasts (1, horizon, k) per method, the actuals and the scores."""

    fold: Fold
    actual: np.ndarray
    forecasts: dict[str, np.ndarray]
    scores: dict[str, dict[str, float]]
    epochs_run: int  # 0 when the network of an earlier fold was reused
    # level → coverage % and mean width on this fold's test window; calibration windows used
    intervals: dict[str, dict[str, float]] = field(default_factory=dict)
    calibration_windows: int = 0


@dataclass(frozen=True)
class BacktestResult:
    """Every fold, the pooled scores and the MAE by horizon step, in original units."""

    settings: Settings
    frame: Frame
    folds: list[FoldResult]
    overall: dict[str, dict[str, float]]
    by_step: dict[str, list[float]]  # method → MAE at steps 1…H (over folds and columns)
    seconds: float
    intervals: dict[str, dict[str, float]] = field(default_factory=dict)  # mean over folds

    def to_json(self) -> dict[str, Any]:
        ts = self.frame.timestamps
        return {
            "data": str(self.frame.path), "settings": self.settings.to_json(),
            "folds": [{"fold": r.fold.index + 1,
                       "train_rows": [r.fold.train_start, r.fold.origin],
                       "val_rows": [r.fold.val_start, r.fold.origin],
                       "origin": ts[r.fold.origin - 1].isoformat(),
                       "first_target": ts[r.fold.origin].isoformat(),
                       "refit": r.fold.refit, "epochs_run": r.epochs_run, "scores": r.scores,
                       "intervals": {"calibration_windows": r.calibration_windows,
                                     "test": r.intervals}}
                      for r in self.folds],
            "overall": self.overall, "by_step_mae": self.by_step,
            "intervals": {"method": "split-conformal on each fitted fold's validation windows",
                          "test": self.intervals},
            "seconds": round(self.seconds, 2)}


def _pool(folds: list[FoldResult]) -> dict[str, dict[str, float]]:
    """Scores over all folds' points; MASE is the mean of the folds' MASE (own scales)."""
    actual = np.concatenate([r.actual for r in folds])
    out = {}
    for name in folds[0].forecasts:
        pred = np.concatenate([r.forecasts[name] for r in folds])
        sc = score(actual, pred, np.ones(actual.shape[-1]))
        sc["mase"] = float(np.mean([r.scores[name]["mase"] for r in folds]))
        out[name] = sc
    return out


def _by_step(folds: list[FoldResult]) -> dict[str, list[float]]:
    actual = np.concatenate([r.actual for r in folds])  # (K, H, k)
    return {name: np.mean(np.abs(np.concatenate([r.forecasts[name] for r in folds]) - actual),
                          axis=(0, 2)).tolist() for name in folds[0].forecasts}


def _pool_intervals(folds: list[FoldResult]) -> dict[str, dict[str, float]]:
    """Mean coverage and width over folds: each fold has the same number of points."""
    if not folds or not folds[0].intervals:
        return {}
    return {lv: {key: float(np.mean([r.intervals[lv][key] for r in folds]))
                 for key in ("coverage", "mean_width")} for lv in folds[0].intervals}


@dataclass(frozen=True)
class _Fitted:
    """A fold's network, the scaler of its training rows and its calibrated intervals."""

    net: Any
    scaler: Scaler
    intervals: Intervals
    epochs: int


def _fit_fold(f: Fold, values: np.ndarray, spec: Any, s: Settings,
              future: np.ndarray | None) -> _Fitted:
    """Fit on the fold's training part, stop early and calibrate on its validation part.

    values (n, F); future (n, n_future) calendar inputs of the forecast steps, or None.
    """
    from forecast_cli.core.scaling import fit_scaler
    from forecast_cli.core.windowing import WindowSpec
    from forecast_cli.pipeline import fitting as training

    assert s.lookback is not None
    assert s.horizon is not None
    scaler = fit_scaler(s.scaler, values[f.train_start:f.val_start])
    scaled = scaler.transform(values)
    part = fold_origins(f, s.lookback, s.horizon)
    net, history = training.fit_network(scaled, part["train"], part["val"], spec, s,
                                        future=future)
    targets = values[:, list(spec.target_index)]
    actual = WindowSpec(s.lookback, s.horizon).targets(targets, part["val"])
    pred = training.forecast_windows(net, scaled, part["val"], spec, scaler, future)
    return _Fitted(net, scaler, calibrate(actual, pred, s.levels), len(history["loss"]))


def backtest(data_path: Path, settings: Settings) -> BacktestResult:
    """Run every fold: fit (or reuse) a network, forecast one window, score all methods."""
    from forecast_cli.pipeline import fitting, training

    started = time.perf_counter()
    frame = training._load(Path(data_path), settings)
    s = training.resolve_settings(settings, frame)
    assert s.lookback is not None
    assert s.horizon is not None
    assert s.season is not None
    if frame.missing_rows().any():
        raise DataError(f"{frame.path}: backtest does not support --fill drop: "
                        f"{int(frame.missing_rows().sum())} row(s) have a missing value. Fix: "
                        "use --fill interpolate or ffill, or fill the values in the file.")
    values = frame.values  # (n, F): the targets first, then --features and --calendar
    targets = values[:, : len(s.target)]  # (n, k)
    plan = fold_plan(len(values), s.lookback, s.horizon, s.folds, s.fold_step or s.horizon,
                     s.train_window, s.val_frac / (s.train_frac + s.val_frac), s.refit_every,
                     str(frame.path))
    spec = training._network_spec(s, len(frame.columns))
    future = calendar_features.future_columns(frame, spec.n_future)  # (n, n_future) or None
    results: list[FoldResult] = []
    fitted: _Fitted | None = None
    for f in plan:
        if f.refit:
            fitted = _fit_fold(f, values, spec, s, future)
        assert fitted is not None  # fold 0 always fits
        at = np.array([f.origin], dtype=np.int64)
        pred = fitting.forecast_windows(fitted.net, fitted.scaler.transform(values), at, spec,
                                        fitted.scaler, future)
        forecasts = {MODEL: pred, **baseline_forecasts(targets, at, s.horizon, s.season)}
        actual = targets[f.origin:f.origin + s.horizon][None]  # (1, H, k)
        scale = mase_scale(targets[f.train_start:f.origin], s.season)
        results.append(FoldResult(
            f, actual, forecasts, {name: score(actual, fc, scale)
                                   for name, fc in forecasts.items()},
            fitted.epochs if f.refit else 0, coverage(fitted.intervals, actual, pred),
            fitted.intervals.n_calibration))
    return BacktestResult(s, frame, results, _pool(results), _by_step(results),
                          time.perf_counter() - started, _pool_intervals(results))


METHODS = (MODEL, NAIVE, SEASONAL)
