"""``forecast backtest``: rolling-origin evaluation of the LSTM against naive baselines.

The folds are those of ``folds``: per series, from its own length, so that no window crosses
from one series into another (one series without ``--id-col``). Each refit fold fits ONE
network on the training windows of every kept series, with early stopping on their validation
windows; each series is scaled by a scaler fitted on its own fold-training rows
``[train_start, val_start)``, so nothing at or after an origin is ever seen. With
``refit_every = k`` a network is fitted at folds 0, k, 2k … and reused (with its scalers) by
the folds in between, which still forecast from their own most recent ``lookback`` rows.

Every fold forecasts one window per series from its origin; the forecasts are inverted with
that series' scaler, and the model, naive and seasonal naive are scored on identical windows
in original units, per series and overall (``backtest_report``).

Prediction intervals: each fitted network is calibrated by split conformal prediction on the
validation windows of the fold it was fitted at, per series (``panel_intervals``: a series
with too few windows for a level uses the pooled scale-free quantile; one series always has
its own), and every fold reports the empirical coverage and mean width of those intervals on
its own test windows; overall is their mean (every fold has the same points).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli.core.evaluation import MODEL, NAIVE, SEASONAL, baseline_forecasts
from forecast_cli.core.metrics import mase_scale
from forecast_cli.core.panel_intervals import SeriesIntervals, window_coverage
from forecast_cli.core.windowing import WindowSpec
from forecast_cli.data import calendar_features
from forecast_cli.errors import DataError
from forecast_cli.pipeline import backtest_report as report
from forecast_cli.pipeline import ensemble
from forecast_cli.pipeline.backtest_report import BacktestResult as BacktestResult
from forecast_cli.pipeline.backtest_report import FoldResult as FoldResult
from forecast_cli.pipeline.fitting import Feed
from forecast_cli.pipeline.folds import Fold as Fold
from forecast_cli.pipeline.folds import FoldLayout, layout
from forecast_cli.pipeline.folds import fold_origins as fold_origins
from forecast_cli.pipeline.folds import fold_plan as fold_plan
from forecast_cli.settings import Settings

METHODS = (MODEL, NAIVE, SEASONAL)


@dataclass(frozen=True)
class _Fitted:
    """A fold's network, what it reads (the data and its per-series scalers), the intervals."""

    net: Any
    feed: Feed  # the data in original units and each kept series' scaler (no scaled copy)
    calibration: SeriesIntervals
    epochs: int


def _fit_fold(lay: FoldLayout, j: int, values: np.ndarray, spec: Any, s: Settings,
              future: np.ndarray | None) -> _Fitted:
    """Fit on fold ``j``'s training windows of every series, stop early and calibrate on
    their validation windows.

    values (n, F) original units; future (n, n_future) calendar inputs of the forecast steps,
    or None.
    """
    from forecast_cli.pipeline import fitting, transforming

    assert s.lookback is not None
    assert s.horizon is not None
    fits = [slice(int(a) + f.train_start, int(a) + f.val_start)
            for a, f in zip(lay.starts, lay.fold(j), strict=True)]
    spans = np.stack([lay.starts, lay.starts + lay.lengths], axis=1)
    # each series' scaler (and target transform) on its fold-training rows
    starts = lay.starts if lay.short else None  # short series: padded windows
    feed = transforming.feed_for(values, spans, fits, s, future, starts)
    train = lay.origins(j, "train", s.lookback, s.horizon)
    val = lay.origins(j, "val", s.lookback, s.horizon)
    net, history = fitting.fit_network(feed.values, train, val, spec, s, future=future,
                                       scaler=feed.scalers, starts=starts)
    feed = _with_theta(lay, j, values, spec, s, net, feed, val)
    calibration = fitting.calibrate(net, feed, val, values[:, list(spec.target_index)], spec,
                                    s.levels, lay.ids)
    return _Fitted(net, feed, calibration, len(history["loss"]))


def _with_theta(lay: FoldLayout, j: int, values: np.ndarray, spec: Any, s: Settings, net: Any,
                feed: Feed, val: tuple[np.ndarray, np.ndarray]) -> Feed:
    """The fold's feed, blended with Theta (fitted from each series' fold-training rows on) as
    train chooses (``ensemble.pick``) on the fold's validation windows, by their error scaled
    per series: always a blend (theta), never (none), or (auto) the best blend unless the
    network alone is better by more than ``PREFER_BLEND``."""
    assert s.season is not None
    if s.combine == "none":
        return feed
    targets = values[:, list(spec.target_index)]  # (n, k)
    folds = lay.fold(j)
    firsts = np.asarray([int(a) + f.train_start for a, f in zip(lay.starts, folds, strict=True)])
    blends = ensemble.blends_over(targets, firsts, s)
    origins, which = val
    if not len(origins):  # nothing to choose on: as train serves it then
        return replace(feed, theta=blends[ensemble.WITH_THETA]) if s.combine == "theta" else feed
    actual = WindowSpec(0, spec.horizon).targets(targets, origins)  # (m, H, k)
    scales = np.stack([mase_scale(targets[a + f.train_start:a + f.val_start], s.season)
                       for a, f in zip(lay.starts, folds, strict=True)])  # (S, k)
    scales = np.where(scales > 0, scales, 1.0)[which][:, None, :]
    alone = feed.forecast(net, origins, which, spec)
    forecasts = {"network": alone, **{"network" + suffix: b.mix(alone, b.forecasts(
        origins, which, spec.horizon)) for suffix, b in blends.items()}}
    scores = {name: {"mase": float(np.mean(np.abs(actual - f) / scales))}
              for name, f in forecasts.items()}
    chosen = ensemble.pick(scores, "mase", True, s.combine == "auto")
    return replace(feed, theta=ensemble.served_blend(str(chosen), blends))


def _score_fold(lay: FoldLayout, j: int, fitted: _Fitted, values: np.ndarray, spec: Any,
                s: Settings, future: np.ndarray | None) -> FoldResult:
    """Forecast fold ``j``'s window of every series with every method and score them."""
    assert s.lookback is not None
    assert s.horizon is not None
    assert s.season is not None
    targets = values[:, : len(s.target)]  # (n, k)
    at = lay.test_origins(j)  # (S,)
    which = np.arange(len(at))
    pred = fitted.feed.forecast(fitted.net, at, which, spec)
    forecasts = {MODEL: pred, **baseline_forecasts(targets, at, s.horizon, s.season)}
    actual = WindowSpec(0, s.horizon).targets(targets, at)  # (S, H, k); padded: at < lookback
    folds = lay.fold(j)
    scales = np.stack([mase_scale(targets[a + f.train_start:a + f.origin], s.season)
                       for a, f in zip(lay.starts, folds, strict=True)])  # (S, k)
    overall, per = report.fold_scores(actual, forecasts, scales)
    widths = fitted.calibration.widths_of(list(lay.ids))  # (S, levels, H, k)
    levels = fitted.calibration.levels
    return FoldResult(
        folds, actual, forecasts, overall, per, fitted.epochs if folds[0].refit else 0,
        fitted.calibration, window_coverage(widths, levels, actual, pred),
        tuple(window_coverage(widths[i:i + 1], levels, actual[i:i + 1], pred[i:i + 1])
              for i in which))


def backtest(data_path: Path, settings: Settings,
             on_fold: Callable[[int, int, FoldResult], None] | None = None) -> BacktestResult:
    """Run every fold: fit (or reuse) a network, forecast each series' window, score.
    ``on_fold(done, total, result)`` is called after each fold (a progress display)."""
    from forecast_cli.pipeline import training

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
    lay = layout(frame, s.lookback, s.horizon, s.season, s.folds, s.fold_step or s.horizon,
                 s.train_window, s.val_frac / (s.train_frac + s.val_frac), s.refit_every,
                 s.strict)
    spec = training._network_spec(s, len(frame.columns))
    future = calendar_features.future_columns(frame, spec.n_future)  # (n, n_future) or None
    results: list[FoldResult] = []
    fitted: _Fitted | None = None
    for j in range(lay.n_folds):
        if lay.fold(j)[0].refit:
            fitted = _fit_fold(lay, j, values, spec, s, future)
        assert fitted is not None  # fold 0 always fits
        results.append(_score_fold(lay, j, fitted, values, spec, s, future))
        if on_fold is not None:
            on_fold(j + 1, lay.n_folds, results[-1])
    return BacktestResult(
        s, frame, lay, results, report.pool_overall(results), report.by_step(results),
        time.perf_counter() - started, report.pool_intervals([r.intervals for r in results]),
        {sid: report.pool_series(results, i) for i, sid in enumerate(lay.ids)},
        {sid: report.pool_intervals([r.series_intervals[i] for r in results])
         for i, sid in enumerate(lay.ids)})
