"""``forecast train --id-col``: one global LSTM over many series, trained and scored in batches.

Called by ``training.train`` when the frame holds several series. Splits, scaling and windows
are per series (see ``panel``); the network, the optimiser and the tf.data pipelines are the
single-series ones, fed with the windows of every series at once.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

import numpy as np

from forecast_cli.core import keepout
from forecast_cli.core.evaluation import MODEL, Evaluation, baseline_forecasts, forecasts_table
from forecast_cli.core.panel_intervals import (
    SeriesIntervals,
    bounds_columns,
    calibrate_series,
    series_coverage,
)
from forecast_cli.core.scaling import fit_scaler
from forecast_cli.core.splits import PARTS
from forecast_cli.core.windowing import WindowSpec
from forecast_cli.data import calendar_features
from forecast_cli.data.frame import Frame
from forecast_cli.errors import TrainingError
from forecast_cli.io import atomic
from forecast_cli.model import api as model
from forecast_cli.model.bundle import DataSchema, write_bundle
from forecast_cli.pipeline import panel
from forecast_cli.settings import Settings


def _fit(scaled: np.ndarray, p: panel.Panel, spec: model.NetworkSpec,
         s: Settings, on_epoch: model.EpochCallback | None,
         future: np.ndarray | None = None) -> tuple[Any, dict[str, list[float]]]:
    """Fit on every series' training windows, stop early on their validation windows.

    scaled (n, F): each series scaled by its own scaler, targets first. The fit itself is
    ``training.fit_network``'s, with the panel's per-series origins.
    """
    from forecast_cli.pipeline.training import fit_network

    assert s.lookback is not None
    assert s.horizon is not None
    train_o, _ = p.origins("train", s.lookback, s.horizon)
    val_o, _ = p.origins("val", s.lookback, s.horizon)
    return fit_network(scaled, train_o, val_o, spec, s, on_epoch, future=future)


def _evaluate(frame: Frame, p: panel.Panel, s: Settings, pred: np.ndarray, test_o: np.ndarray,
              which: np.ndarray) -> tuple[Evaluation, dict[str, dict[str, dict[str, float]]]]:
    assert s.lookback is not None
    assert s.horizon is not None
    assert s.season is not None
    k = len(s.target)
    target_values = frame.values[:, :k]
    actual = WindowSpec(s.lookback, s.horizon).targets(target_values, test_o)
    forecasts = {MODEL: pred, **baseline_forecasts(target_values, test_o, s.horizon, s.season)}
    scales = panel.mase_scales(frame, p, s.season)[:, :k]
    overall: dict[str, dict[str, float]] = {}
    per: dict[str, dict[str, dict[str, float]]] = {sid: {} for sid in p.ids}
    for method, f in forecasts.items():
        overall[method], by_series = panel.scores(actual, f, which, scales)
        for i, sc in by_series.items():
            per[p.ids[i]][method] = sc
    return Evaluation(actual=actual, forecasts=forecasts, scores=overall), per


def _forecast(net: Any, scaled: np.ndarray, origins: np.ndarray, which: np.ndarray,
              spec: model.NetworkSpec, scalers: list[Any],
              future: np.ndarray | None) -> np.ndarray:
    """Forecasts of the windows at ``origins`` of series ``which``, original units. (m, H, k).

    future: (n, n_future) calendar inputs of the forecast steps, or None.
    """
    x = model.window_dataset(scaled, None, origins, spec, 1024, future=future)
    pred = panel.inverse(model.predict(net, x), which, scalers, list(spec.target_index))
    if not np.isfinite(pred).all():
        raise TrainingError("the trained network produced non-finite forecasts; nothing saved.")
    return pred


def _calibrate(frame: Frame, p: panel.Panel, s: Settings, net: Any, scaled: np.ndarray,
               spec: model.NetworkSpec, scalers: list[Any],
               future: np.ndarray | None) -> SeriesIntervals:
    """Per-series conformal half-widths from the validation windows (see panel_intervals)."""
    assert s.lookback is not None
    assert s.horizon is not None
    val_o, val_which = p.origins("val", s.lookback, s.horizon)
    k = len(s.target)
    actual = WindowSpec(s.lookback, s.horizon).targets(frame.values[:, :k], val_o)
    errors = np.abs(actual - _forecast(net, scaled, val_o, val_which, spec, scalers, future))
    scales = np.stack([sc.scale[list(spec.target_index)] for sc in scalers])  # (S, k)
    return calibrate_series(errors, val_which, p.ids, scales, s.levels)


def train_panel(frame: Frame, s: Settings, spec: model.NetworkSpec,
                on_epoch: model.EpochCallback | None, started: float) -> Any:
    """Train one network on every series long enough; returns a ``training.TrainResult``."""
    from forecast_cli.pipeline.training import TrainResult

    assert s.lookback is not None
    assert s.horizon is not None
    assert s.season is not None
    p = panel.layout(frame, s.train_frac, s.val_frac, s.lookback, s.horizon, s.season, s.strict)
    scaled, scalers = panel.scale(frame, p, s.scaler)
    future = calendar_features.future_columns(frame, spec.n_future)  # (n, n_future) or None
    net, history = _fit(scaled, p, spec, s, on_epoch, future)
    calib = _calibrate(frame, p, s, net, scaled, spec, scalers, future)
    test_o, which = p.origins("test", s.lookback, s.horizon)
    keepout.check_windows(scaled, test_o, s.lookback, 0)
    pred = _forecast(net, scaled, test_o, which, spec, scalers, future)
    ev, per = _evaluate(frame, p, s, pred, test_o, which)
    cov, cov_per = series_coverage(calib, ev.actual, pred, which, p.ids)
    windows = {part: len(p.origins(part, s.lookback, s.horizon)[0])
               for part in ("train", "val", "test")}
    if p.missing is not None:  # --fill drop: record the windows the kept-out rows cost
        total: dict[str, int] = {
            part: len(p.origins(part, s.lookback, s.horizon, complete_only=False)[0])
            for part in PARTS}
        note = keepout.cost_note(int(p.missing.sum()), windows, total)
        frame = replace(frame, fixes=(*frame.fixes, note))
    result = TrainResult(settings=s, frame=frame, bounds=p.bounds[0], windows=windows,
                         evaluation=ev, history=history,
                         best_epoch=int(np.argmin(history["val_loss"])) + 1,
                         seconds=time.perf_counter() - started, output_dir=s.output_dir,
                         series_scores=per, warnings=p.warnings, interval_scores=cov,
                         series_intervals=_intervals_report(calib, cov, cov_per))
    _publish(result, p, spec, scalers, net, test_o, which, calib)
    return result


def _intervals_report(calib: SeriesIntervals, overall: dict[str, dict[str, float]],
                      per: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The ``intervals`` section of metrics.json for many series."""
    pooled = sorted(sid for sid, c in calib.series.items() if "pooled" in c.methods)
    return {"method": "split-conformal on validation residuals, per series; a series with too "
                      "few validation windows for a level uses the pooled scale-normalised "
                      "quantile × its scale",
            "calibration_windows": calib.n_pooled, "test": overall,
            "series_using_pooled": pooled, "series": per}


def _publish(r: Any, p: panel.Panel, spec: model.NetworkSpec, scalers: list[Any], net: Any,
             test_o: np.ndarray, which: np.ndarray, calib: SeriesIntervals) -> None:
    from forecast_cli.pipeline.training import (
        BUNDLE_DIR,
        FORECASTS_FILE,
        HISTORY_FILE,
        METRICS_FILE,
        history_csv,
        json_safe,
        metrics_report,
    )

    s, f = r.settings, r.frame
    out = atomic.ensure_dir(r.output_dir)
    ids = [p.ids[i] for i in which]
    table = forecasts_table(r.evaluation, f.timestamps, test_o, s.target,
                            extra=bounds_columns(calib, r.evaluation.forecasts[MODEL], ids))
    table.insert(0, f.id_col, np.asarray(p.ids, dtype=object)[
        np.repeat(which, s.horizon * len(s.target))])
    atomic.write_text(out / FORECASTS_FILE, table.to_csv(index=False))
    atomic.write_text(out / HISTORY_FILE, history_csv(r.history))
    train_rows = np.concatenate([f.values[int(a): int(a) + b.train_end]
                                 for a, b in zip(p.starts, p.bounds, strict=True)])
    pooled = fit_scaler(s.scaler, train_rows)  # for range checks; forecasts use per series
    schema = DataSchema(
        time_col=f.time_col, inputs=f.columns, targets=tuple(s.target), freq=f.freq,
        season=s.season, first_timestamp=f.timestamps.min(), last_timestamp=f.timestamps.max(),
        tz=f.tz, fixes=f.fixes,
        panel={"id_col": f.id_col, "skipped": list(p.skipped),
               "series": {sid: sc.to_json() for sid, sc in zip(p.ids, scalers, strict=True)}})
    write_bundle(out / BUNDLE_DIR, spec, schema, pooled, s.to_json(), f.fingerprint(),
                 lambda path: model.save_weights(net, path), intervals=calib.to_json(),
                 write_onnx=lambda path: model.export_onnx(net, spec, path))
    report = metrics_report(r)
    atomic.write_text(out / METRICS_FILE, json.dumps(json_safe(report), indent=2) + "\n")
