"""What ``forecast train`` writes: bundle, metrics.json, test_forecasts.csv and history.csv.

One writer for a panel of any size. Only here (and in rendering) does a file without
``--id-col`` differ from a panel: no id column in the test forecasts, the single-series bundle
(one scaler, one set of interval half-widths) and the single-series sections of metrics.json,
exactly as before panels and single series shared a pipeline.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli.core.evaluation import MODEL, NAIVE, SEASONAL, forecasts_table
from forecast_cli.core.panel_intervals import SeriesIntervals, bounds_columns
from forecast_cli.core.scaling import Scaler, SeriesScalers, fit_scaler
from forecast_cli.core.transform import record_counts
from forecast_cli.io import atomic, killpoints
from forecast_cli.io.forecast_output import SCHEMA_VERSION, prepared, stamp
from forecast_cli.model import api as model
from forecast_cli.model.bundle import DataSchema, write_bundle
from forecast_cli.pipeline.ranges import seen_ranges
from forecast_cli.pipeline.train_result import (
    BUNDLE_DIR,
    FORECASTS_FILE,
    HISTORY_FILE,
    METRICS_FILE,
    TrainResult,
)


def publish(r: TrainResult, spec: model.NetworkSpec, scalers: SeriesScalers, net: Any) -> None:
    """Write every output atomically: forecasts and history, the bundle, metrics.json last.
    The bundle carries metrics.json's content as scores.json (``forecast inspect``)."""
    out = atomic.ensure_dir(r.output_dir)
    report = json_safe(metrics_report(r))
    transform = r.transform
    atomic.write_text(out / FORECASTS_FILE, _test_table(r).to_csv(index=False))
    atomic.write_text(out / HISTORY_FILE, history_csv(r.history))
    scaler, schema = _bundle_shape(r, scalers)
    schema = replace(schema, transform=transform)
    calib = r.calibration
    intervals = (calib.to_json() if r.frame.id_col is not None
                 else None if r.intervals is None else r.intervals.to_json())
    write_bundle(out / BUNDLE_DIR, spec, schema, scaler,
                 {**r.settings.to_json(), "serving": r.serving,
                  "theta_weight": (r.ensemble or {}).get("theta_weight", 0.0),
                  "theta_always": (r.ensemble or {}).get("theta_always", False)},
                 r.frame.fingerprint(), lambda path: _save_weights(net, path),
                 intervals=intervals, write_onnx=lambda path: model.export_onnx(net, spec, path),
                 scores=report)
    atomic.write_text(out / METRICS_FILE, json.dumps(report, indent=2) + "\n")


def _save_weights(net: Any, path: Path) -> None:
    killpoints.reached("bundle-weights")  # a crash test's point inside the bundle's writing
    model.save_weights(net, path)


def _test_table(r: TrainResult) -> Any:
    """Every test window × step × target, with interval bounds; the id column for panels.
    As it is written: timestamps ISO 8601 in the data's zone, values to ``precision``
    decimals (``forecast_output.prepared``)."""
    ids = [r.panel.ids[i] for i in r.test_which]
    extra = bounds_columns(r.calibration, r.evaluation.forecasts[MODEL], ids)
    table = forecasts_table(r.evaluation, r.frame.timestamps, r.test_origins, r.settings.target,
                            extra=extra)
    if r.frame.id_col is not None:
        table.insert(0, r.frame.id_col, np.asarray(r.panel.ids, dtype=object)[
            np.repeat(r.test_which, r.evaluation.actual.shape[1] * len(r.settings.target))])
    return prepared(table, r.frame.tz, r.settings.precision)


def _bundle_shape(r: TrainResult, scalers: SeriesScalers) -> tuple[Scaler, DataSchema]:
    """The bundle's scaler and data schema: one series' scaler, or every series' in the schema
    (with a pooled scaler kept for range checks only)."""
    s, f, p = r.settings, r.frame, r.panel
    assert s.season is not None
    panel_info = None
    scaler = scalers.scalers[0]
    if f.id_col is not None:
        train_rows = np.concatenate([f.values[int(a): int(a) + b.train_end]
                                     for a, b in zip(p.starts, p.bounds, strict=True)])
        scaler = fit_scaler(s.scaler, train_rows)  # range checks; forecasts use per series
        panel_info = {"id_col": f.id_col, "skipped": list(p.skipped),
                      "short": short_ids(p),
                      "series": {sid: sc.to_json()
                                 for sid, sc in zip(p.ids, scalers.scalers, strict=True)}}
    schema = DataSchema(
        time_col=f.time_col, inputs=f.columns, targets=tuple(s.target), freq=f.freq,
        season=s.season, first_timestamp=f.timestamps.min(), last_timestamp=f.timestamps.max(),
        tz=f.tz, fixes=f.fixes, panel=panel_info, seen=seen_ranges(f))
    return scaler, schema


def metrics_report(r: TrainResult) -> dict[str, Any]:
    """The content of metrics.json."""
    f, ev, b = r.frame, r.evaluation, r.bounds
    report = {
        "schema_version": SCHEMA_VERSION,
        "data": {"file": str(f.path), "rows": len(f.values), "columns": list(f.columns),
                 "time_col": f.time_col, "freq": f.freq,
                 "first": stamp(f.timestamps.min(), f.tz), "last": stamp(f.timestamps.max(), f.tz),
                 "fingerprint": f.fingerprint(), "fixes": list(f.fixes),
                 "warnings": list(f.warnings), "tz": f.tz},
        "split_rows": {"train": [0, b.train_end], "val": [b.train_end, b.val_end],
                       "test": [b.val_end, b.n]},
        "windows": r.windows,
        "settings": r.settings.to_json(),
        "test": ev.scores,
        "intervals": {"method": "split-conformal on validation residuals",
                      "calibration_windows": r.calibration.n_pooled,
                      "test": r.interval_scores},
        "skill_mase": {NAIVE: ev.skill(NAIVE), SEASONAL: ev.skill(SEASONAL)},
        "validation": r.validation, "serving": r.serving, "ensemble": r.ensemble,
        "bundle_fit": r.bundle_fit,
        "training": {"epochs_run": len(r.history.get("loss", [])), "best_epoch": r.best_epoch,
                     "best_val_loss": r.history["val_loss"][r.best_epoch - 1],
                     "seconds": round(r.seconds, 2)},
    }
    if f.id_col is not None:  # these keys replace the single-series split_rows and intervals
        report.update({
            "split_rows": "per series, by train_frac / val_frac / test_frac of its own rows",
            "id_col": f.id_col, "series_count": len(r.per_series),
            "warnings": list(r.warnings), "series": r.per_series,
            "short_history": short_ids(r.panel),
            "intervals": intervals_report(r.calibration, r.interval_scores,
                                          r.series_interval_scores)})
    if r.transform is not None:
        report["transform"] = record_counts(r.transform, len(r.panel.ids))
    return report


def intervals_report(calib: SeriesIntervals, overall: dict[str, dict[str, float]],
                     per: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The ``intervals`` section of metrics.json for many series."""
    pooled = sorted(sid for sid, c in calib.series.items() if "pooled" in c.methods)
    return {"method": "split-conformal on validation residuals, per series; a series with too "
                      "few validation windows for a level uses the pooled scale-normalised "
                      "quantile × its scale",
            "calibration_windows": calib.n_pooled, "test": overall,
            "series_using_pooled": pooled, "series": per}


def json_safe(obj: Any) -> Any:
    """Replace NaN/inf floats by None, recursively: strict JSON has no NaN."""
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def history_csv(history: dict[str, list[float]]) -> str:
    """epoch,<key>,… one line per epoch. Keras computes losses in float32: a value that is one
    is written as float32's shortest repr (``0.001``, not ``0.0010000000474974513``), any other
    exactly (float64's repr); both read back as the value recorded."""
    keys = sorted(history)
    lines = ["epoch," + ",".join(keys)]
    for i in range(len(history[keys[0]]) if keys else 0):
        lines.append(f"{i + 1}," + ",".join(_shortest(history[k][i]) for k in keys))
    return "\n".join(lines) + "\n"


def _shortest(value: float) -> str:
    single = np.float32(value)
    return str(single) if float(single) == float(value) else repr(float(value))


def short_ids(p: Any) -> list[str]:
    """The series trained with the short layout (padded windows, last horizons held out)."""
    return [sid for i, sid in enumerate(p.ids) if p.is_short(i)]
