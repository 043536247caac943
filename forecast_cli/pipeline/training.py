"""``forecast train``: load → split → scale → window → fit → evaluate → publish outputs."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli.core import keepout
from forecast_cli.core.evaluation import (
    MODEL,
    NAIVE,
    SEASONAL,
    Evaluation,
    baseline_forecasts,
    evaluate,
    forecasts_table,
)
from forecast_cli.core.intervals import Intervals, calibrate, coverage, level_label
from forecast_cli.core.metrics import mase_scale
from forecast_cli.core.scaling import Scaler, fit_scaler
from forecast_cli.core.splits import SplitBounds, check_length
from forecast_cli.core.windowing import WindowSpec
from forecast_cli.data import calendar_features
from forecast_cli.data.frame import Frame, load_csv
from forecast_cli.data.frequency import window_lengths
from forecast_cli.errors import ConfigError, DataError, TrainingError
from forecast_cli.io import atomic
from forecast_cli.loadoptions import LoadOptions
from forecast_cli.model import api as model
from forecast_cli.model.bundle import DataSchema, write_bundle
from forecast_cli.settings import Settings

BUNDLE_DIR = "model"
METRICS_FILE = "metrics.json"
FORECASTS_FILE = "test_forecasts.csv"
HISTORY_FILE = "history.csv"


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced and where it wrote it."""

    settings: Settings  # with every derived value filled in
    frame: Frame
    bounds: SplitBounds
    windows: dict[str, int]
    evaluation: Evaluation
    history: dict[str, list[float]]
    best_epoch: int
    seconds: float
    output_dir: Path
    # many series (--id-col): series id → method → metric; None for a single series
    series_scores: dict[str, dict[str, dict[str, float]]] | None = None
    warnings: tuple[str, ...] = ()
    intervals: Intervals | None = None  # calibrated on the validation windows
    interval_scores: dict[str, dict[str, float]] = field(default_factory=dict)  # test period
    # many series: metrics.json's "intervals" section, per series (panel_train); else None
    series_intervals: dict[str, Any] | None = None

    @property
    def bundle_dir(self) -> Path:
        return self.output_dir / BUNDLE_DIR


def resolve_settings(s: Settings, frame: Frame) -> Settings:
    """Fill what was left to the data: targets, season, horizon and lookback.

    The defaults are ``frequency.window_lengths`` (shared with ``forecast validate``).
    """
    # the frame's columns are the resolved names: the targets first, then --features
    target = frame.columns[: len(s.target)] if s.target else frame.columns
    season, horizon, lookback = window_lengths(frame.freq, s.season, s.horizon, s.lookback)
    if s.patch_len > lookback:
        raise ConfigError(f"`patch_len` must be ≤ the lookback ({lookback}). Got {s.patch_len}.")
    return replace(s, target=tuple(target), season=season, horizon=horizon, lookback=lookback,
                   freq=frame.freq, time_col=frame.time_col)


def _load(data_path: Path, s: Settings) -> Frame:
    if s.features and not s.target:
        raise DataError(f"{data_path}: --features needs --target: name the column(s) to "
                        "forecast; the features are inputs only.")
    overlap = set(s.target) & set(s.features)
    if overlap:
        raise DataError(f"{data_path}: {', '.join(sorted(overlap))} is both a --target and a "
                        "--feature; a target is already an input.")
    frame = load_csv(data_path, columns=[*s.target, *s.features] or None,
                     options=LoadOptions.from_settings(s))
    if s.calendar:
        from forecast_cli.data.calendar_features import with_calendar

        if not s.target:
            raise DataError(f"{data_path}: --calendar needs --target (the columns to forecast).")
        frame = with_calendar(frame)
    if not s.target and len(frame.columns) > 1:
        raise DataError(f"{data_path}: several value columns ({', '.join(frame.columns)}); "
                        "choose what to forecast with --target (comma-separated for several).")
    return frame


def _network_spec(s: Settings, n_inputs: int) -> model.NetworkSpec:
    """The network for resolved settings; ``--calendar`` adds its values per horizon step."""
    assert s.lookback is not None
    assert s.horizon is not None
    n_future = len(calendar_features.names(s.freq or "")) if s.calendar else 0
    return model.NetworkSpec(
        lookback=s.lookback, horizon=s.horizon, n_inputs=n_inputs,
        target_index=tuple(range(len(s.target))), lstm_units=s.lstm_units,
        lstm_layers=s.lstm_layers, dense_units=s.dense_units, dropout=s.dropout,
        window_norm=s.window_norm, seed=s.seed, channel_independence=s.channel_independence,
        patch_len=s.patch_len, n_future=n_future)


def fit_network(values: np.ndarray, train_origins: np.ndarray, val_origins: np.ndarray,
                spec: model.NetworkSpec, s: Settings,
                on_epoch: model.EpochCallback | None = None, *,
                backup_dir: Path | None = None,
                future: np.ndarray | None = None,
                scaler: Scaler | None = None) -> tuple[Any, dict[str, list[float]]]:
    """Seed, build and fit a network on windows of ``values`` (n, F); best weights restored.

    ``values`` is scaled already, or in original units with the ``scaler`` to apply batch by
    batch (no scaled copy of the data: see ``model.window_dataset``). Targets are its columns
    ``spec.target_index``; ``future`` (n, n_future): the known-future inputs when
    ``spec.n_future > 0`` (``future_columns``). Raises TrainingError when the validation loss
    never became finite.
    """
    for at in (train_origins, val_origins):  # nothing NaN ever reaches the network
        keepout.check_windows(values, at, spec.lookback, spec.horizon)
    model.seed_everything(s.seed)
    net = model.training_network(spec)  # fused LSTM on CPU: see model._fused_lstm_class
    train_ds = model.window_dataset(values, values, train_origins, spec, s.batch_size,
                                    shuffle_seed=s.seed, future=future, scaler=scaler)
    val_ds = model.window_dataset(values, values, val_origins, spec, s.batch_size,
                                  future=future, scaler=scaler)
    history = model.fit(net, train_ds, val_ds, model.FitOptions(
        s.optimizer, s.learning_rate, s.clipnorm, s.epochs, s.patience), on_epoch,
        backup_dir=backup_dir)
    if not np.isfinite(np.asarray(history.get("val_loss", []), dtype=np.float64)).any():
        raise TrainingError("training diverged (non-finite loss); nothing was saved. Try a "
                            "lower --learning-rate or --clipnorm.")
    return model.portable_network(net, spec), history


def forecast_windows(net: Any, values: np.ndarray, origins: np.ndarray,
                     spec: model.NetworkSpec, scaler: Scaler,
                     future: np.ndarray | None = None, *, scaled: bool = True) -> np.ndarray:
    """Forecasts of the windows at ``origins``, in original units. → (m, horizon, k).

    values (n, F): scaled by ``scaler`` already, or (``scaled=False``) in original units.
    ``future`` (n, n_future): the known-future inputs of every row, when the spec has them.
    """
    keepout.check_windows(values, origins, spec.lookback, 0)
    x = model.window_dataset(values, None, origins, spec, 1024, future=future,
                             scaler=None if scaled else scaler)
    pred = scaler.select(list(spec.target_index)).inverse(model.predict(net, x))
    if not np.isfinite(pred).all():
        raise TrainingError("the trained network produced non-finite forecasts; nothing saved.")
    return pred


def train(data_path: Path, settings: Settings,
          on_epoch: model.EpochCallback | None = None, *,
          backup_dir: Path | None = None) -> TrainResult:
    """Train, evaluate against baselines and write bundle, metrics, forecasts and history.

    Prediction intervals are calibrated on the validation windows (split conformal) and their
    coverage is measured on the test windows. ``backup_dir``: resume an interrupted fit from
    its last completed epoch (see ``model.fit``).
    """
    started = time.perf_counter()
    frame = _load(Path(data_path), settings)
    s = resolve_settings(settings, frame)
    assert s.lookback is not None
    assert s.horizon is not None
    assert s.season is not None
    if frame.id_col is not None:  # many series: one global model (see panel_train)
        from forecast_cli.pipeline.panel_train import train_panel

        result: TrainResult = train_panel(frame, s, _network_spec(s, len(frame.columns)),
                                          on_epoch, started)
        return result
    bounds = check_length(len(frame.values), s.train_frac, s.val_frac, s.lookback, s.horizon,
                          str(frame.path))
    atomic.ensure_dir(s.output_dir)  # fail before training, not after it
    scaler = fit_scaler(s.scaler, frame.values[: bounds.train_end])  # targets and features
    # The network reads frame.values (n, F: targets first, then --features) in place, scaled
    # batch by batch: no scaled copy of the data (bench/bench_memory.py).
    k = len(s.target)
    target_values = frame.values[:, :k]  # (n, k) original units
    spec = _network_spec(s, len(frame.columns))
    # --fill drop: no window reads a row with a missing value (keepout)
    parts = keepout.split_origins(frame.values, bounds, s.lookback, s.horizon, s.season,
                                  str(frame.path))
    note = keepout.split_note(frame.values, bounds, parts, s.lookback, s.horizon)
    frame = replace(frame, fixes=(*frame.fixes, note)) if note else frame
    if parts["test"][0] < s.season:
        raise DataError(f"{frame.path}: season {s.season} is longer than the {parts['test'][0]} "
                        "rows before the test period; seasonal naive cannot be scored. Pass a "
                        "shorter --season.")

    future = calendar_features.future_columns(frame, spec.n_future)  # (n, n_future) or None
    net, history = fit_network(frame.values, parts["train"], parts["val"], spec, s, on_epoch,
                               backup_dir=backup_dir, future=future, scaler=scaler)
    windows = WindowSpec(s.lookback, s.horizon)
    calib = calibrate(windows.targets(target_values, parts["val"]),
                      forecast_windows(net, frame.values, parts["val"], spec, scaler, future,
                                       scaled=False), s.levels)
    pred = forecast_windows(net, frame.values, parts["test"], spec, scaler, future,
                            scaled=False)  # (m, H, k)
    actual = windows.targets(target_values, parts["test"])
    forecasts = {MODEL: pred, **baseline_forecasts(target_values, parts["test"], s.horizon,
                                                   s.season)}
    ev = evaluate(actual, forecasts, mase_scale(target_values[: bounds.train_end], s.season))

    result = TrainResult(settings=s, frame=frame, bounds=bounds,
                         windows={p: len(o) for p, o in parts.items()}, evaluation=ev,
                         history=history, best_epoch=best_epoch(history),
                         seconds=time.perf_counter() - started, output_dir=s.output_dir,
                         intervals=calib, interval_scores=coverage(calib, actual, pred))
    _publish(result, spec, scaler, net, parts["test"])
    return result


def best_epoch(history: dict[str, list[float]]) -> int:
    """1-based epoch of the lowest finite validation loss (the weights EarlyStopping restores)."""
    losses = np.asarray(history["val_loss"], dtype=np.float64)
    return int(np.nanargmin(np.where(np.isfinite(losses), losses, np.nan))) + 1


def _schema(r: TrainResult) -> DataSchema:
    s, f = r.settings, r.frame
    assert s.season is not None
    return DataSchema(time_col=f.time_col, inputs=f.columns, targets=tuple(s.target),
                      freq=f.freq, season=s.season, first_timestamp=f.timestamps[0],
                      last_timestamp=f.timestamps[-1], tz=f.tz, fixes=f.fixes)


def metrics_report(r: TrainResult) -> dict[str, Any]:
    """The content of metrics.json."""
    f, ev = r.frame, r.evaluation
    return {
        "data": {"file": str(f.path), "rows": len(f.values), "columns": list(f.columns),
                 "time_col": f.time_col, "freq": f.freq,
                 "first": f.timestamps[0].isoformat(), "last": f.timestamps[-1].isoformat(),
                 "fingerprint": f.fingerprint(), "fixes": list(f.fixes),
                 "warnings": list(f.warnings), "tz": f.tz},
        "split_rows": {"train": [0, r.bounds.train_end],
                       "val": [r.bounds.train_end, r.bounds.val_end],
                       "test": [r.bounds.val_end, r.bounds.n]},
        "windows": r.windows,
        "settings": r.settings.to_json(),
        "test": ev.scores,
        "intervals": {"method": "split-conformal on validation residuals",
                      "calibration_windows": r.intervals.n_calibration if r.intervals else 0,
                      "test": r.interval_scores},
        "skill_mase": {NAIVE: ev.skill(NAIVE), SEASONAL: ev.skill(SEASONAL)},
        "training": {"epochs_run": len(r.history.get("loss", [])), "best_epoch": r.best_epoch,
                     "best_val_loss": r.history["val_loss"][r.best_epoch - 1],
                     "seconds": round(r.seconds, 2)},
        **_series_report(r),
    }


def _series_report(r: TrainResult) -> dict[str, Any]:
    """Many series: the per-series scores and what was left out (nothing for one series).

    Its keys replace those of the single-series report (``split_rows``, ``intervals``).
    """
    if r.series_scores is None:
        return {}
    extra = {} if r.series_intervals is None else {"intervals": r.series_intervals}
    return {"split_rows": "per series, by train_frac / val_frac / test_frac of its own rows",
            "id_col": r.frame.id_col, "series_count": len(r.series_scores),
            "warnings": list(r.warnings), "series": r.series_scores, **extra}


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
    keys = sorted(history)
    lines = ["epoch," + ",".join(keys)]
    for i in range(len(history[keys[0]]) if keys else 0):
        lines.append(f"{i + 1}," + ",".join(repr(history[k][i]) for k in keys))
    return "\n".join(lines) + "\n"


def _interval_columns(r: TrainResult) -> dict[str, np.ndarray]:
    """lower_80, upper_80, … around the model's test forecasts, each (m, H, k)."""
    if r.intervals is None:
        return {}
    out: dict[str, np.ndarray] = {}
    for level, (lo, hi) in r.intervals.bounds(r.evaluation.forecasts[MODEL]).items():
        out[f"lower_{level_label(level)}"] = lo
        out[f"upper_{level_label(level)}"] = hi
    return out


def _publish(r: TrainResult, spec: model.NetworkSpec, scaler: Any, net: Any,
             test_origins: np.ndarray) -> None:
    """Every output is written atomically; the bundle last-but-one, metrics last."""
    out = atomic.ensure_dir(r.output_dir)
    table = forecasts_table(r.evaluation, r.frame.timestamps, test_origins, r.settings.target,
                            extra=_interval_columns(r))
    atomic.write_text(out / FORECASTS_FILE, table.to_csv(index=False))
    atomic.write_text(out / HISTORY_FILE, history_csv(r.history))
    write_bundle(out / BUNDLE_DIR, spec, _schema(r), scaler, r.settings.to_json(),
                 r.frame.fingerprint(), lambda p: model.save_weights(net, p),
                 intervals=r.intervals.to_json() if r.intervals else None,
                 write_onnx=lambda p: model.export_onnx(net, spec, p))
    report = metrics_report(r)
    atomic.write_text(out / METRICS_FILE, json.dumps(json_safe(report), indent=2) + "\n")
