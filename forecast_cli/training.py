"""``forecast train``: load → split → scale → window → fit → evaluate → publish outputs."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli import atomic, model
from forecast_cli.bundle import DataSchema, write_bundle
from forecast_cli.config import Settings
from forecast_cli.data import Frame, load_csv
from forecast_cli.errors import DataError, TrainingError
from forecast_cli.evaluation import (
    MODEL,
    NAIVE,
    SEASONAL,
    Evaluation,
    baseline_forecasts,
    evaluate,
    forecasts_table,
)
from forecast_cli.frequency import season_length
from forecast_cli.metrics import mase_scale
from forecast_cli.scaling import fit_scaler
from forecast_cli.splits import SplitBounds, check_length, origins, window_counts
from forecast_cli.windowing import WindowSpec

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

    @property
    def bundle_dir(self) -> Path:
        return self.output_dir / BUNDLE_DIR


def resolve_settings(s: Settings, frame: Frame) -> Settings:
    """Fill what was left to the data: targets, season, horizon and lookback.

    season: from the frequency unless given. horizon: one season (at least 1). lookback: two
    horizons or two seasons, whichever is longer, so the network always sees a full cycle.
    """
    target = s.target or frame.columns
    season = s.season or season_length(frame.freq)
    horizon = s.horizon or max(1, season)
    lookback = s.lookback or max(2 * horizon, 2 * season, 8)
    return replace(s, target=tuple(target), season=season, horizon=horizon, lookback=lookback,
                   freq=frame.freq, time_col=frame.time_col)


def _load(data_path: Path, s: Settings) -> Frame:
    frame = load_csv(data_path, columns=list(s.target) or None, time_col=s.time_col,
                     sep=s.sep, freq=s.freq)
    if not s.target and len(frame.columns) > 1:
        raise DataError(f"{data_path}: several value columns ({', '.join(frame.columns)}); "
                        "choose what to forecast with --target (comma-separated for several).")
    return frame


def _network_spec(s: Settings, n_inputs: int) -> model.NetworkSpec:
    assert s.lookback is not None
    assert s.horizon is not None
    return model.NetworkSpec(
        lookback=s.lookback, horizon=s.horizon, n_inputs=n_inputs,
        target_index=tuple(range(n_inputs)), lstm_units=s.lstm_units,
        lstm_layers=s.lstm_layers, dense_units=s.dense_units, dropout=s.dropout,
        window_norm=s.window_norm, seed=s.seed)


def train(data_path: Path, settings: Settings,
          on_epoch: model.EpochCallback | None = None) -> TrainResult:
    """Train, evaluate against baselines and write bundle, metrics, forecasts and history."""
    started = time.perf_counter()
    frame = _load(Path(data_path), settings)
    s = resolve_settings(settings, frame)
    assert s.lookback is not None
    assert s.horizon is not None
    assert s.season is not None
    bounds = check_length(len(frame.values), s.train_frac, s.val_frac, s.lookback, s.horizon,
                          str(frame.path))
    scaler = fit_scaler(s.scaler, frame.values[: bounds.train_end])
    scaled = scaler.transform(frame.values)  # (n, F)
    spec = _network_spec(s, len(frame.columns))
    parts = {p: origins(bounds, p, s.lookback, s.horizon) for p in ("train", "val", "test")}

    model.seed_everything(s.seed)
    net = model.build_network(spec)
    train_ds = model.window_dataset(scaled, scaled, parts["train"], spec, s.batch_size,
                                    shuffle_seed=s.seed)
    val_ds = model.window_dataset(scaled, scaled, parts["val"], spec, s.batch_size)
    history = model.fit(net, train_ds, val_ds, model.FitOptions(
        s.optimizer, s.learning_rate, s.clipnorm, s.epochs, s.patience), on_epoch)
    val_losses = history.get("val_loss", [])
    if not val_losses or not np.isfinite(min(val_losses)):
        raise TrainingError("training diverged (non-finite loss); nothing was saved. Try a "
                            "lower --learning-rate or --clipnorm.")

    test_x = model.window_dataset(scaled, None, parts["test"], spec, 1024)
    pred = scaler.inverse(model.predict(net, test_x))  # (m, H, k) original units
    if not np.isfinite(pred).all():
        raise TrainingError("the trained network produced non-finite forecasts; nothing saved.")
    windows = WindowSpec(s.lookback, s.horizon)
    actual = windows.targets(frame.values, parts["test"])
    forecasts = {MODEL: pred, **baseline_forecasts(frame.values, parts["test"], s.horizon,
                                                   s.season)}
    ev = evaluate(actual, forecasts, mase_scale(frame.values[: bounds.train_end], s.season))

    result = TrainResult(settings=s, frame=frame, bounds=bounds,
                         windows=window_counts(bounds, s.lookback, s.horizon), evaluation=ev,
                         history=history, best_epoch=int(np.argmin(val_losses)) + 1,
                         seconds=time.perf_counter() - started, output_dir=s.output_dir)
    _publish(result, spec, scaler, net, parts["test"])
    return result


def _schema(r: TrainResult) -> DataSchema:
    s, f = r.settings, r.frame
    assert s.season is not None
    return DataSchema(time_col=f.time_col, inputs=f.columns, targets=tuple(s.target),
                      freq=f.freq, season=s.season, first_timestamp=f.timestamps[0],
                      last_timestamp=f.timestamps[-1])


def metrics_report(r: TrainResult) -> dict[str, Any]:
    """The content of metrics.json."""
    f, ev = r.frame, r.evaluation
    return {
        "data": {"file": str(f.path), "rows": len(f.values), "columns": list(f.columns),
                 "time_col": f.time_col, "freq": f.freq,
                 "first": f.timestamps[0].isoformat(), "last": f.timestamps[-1].isoformat(),
                 "fingerprint": f.fingerprint(), "fixes": list(f.fixes)},
        "split_rows": {"train": [0, r.bounds.train_end],
                       "val": [r.bounds.train_end, r.bounds.val_end],
                       "test": [r.bounds.val_end, r.bounds.n]},
        "windows": r.windows,
        "settings": r.settings.to_json(),
        "test": ev.scores,
        "skill_mase": {NAIVE: ev.skill(NAIVE), SEASONAL: ev.skill(SEASONAL)},
        "training": {"epochs_run": len(r.history.get("loss", [])), "best_epoch": r.best_epoch,
                     "best_val_loss": min(r.history["val_loss"]), "seconds": round(r.seconds, 2)},
    }


def json_safe(obj: Any) -> Any:
    """Replace NaN/inf floats by None, recursively: strict JSON has no NaN."""
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def _history_csv(history: dict[str, list[float]]) -> str:
    keys = sorted(history)
    lines = ["epoch," + ",".join(keys)]
    for i in range(len(history[keys[0]]) if keys else 0):
        lines.append(f"{i + 1}," + ",".join(repr(history[k][i]) for k in keys))
    return "\n".join(lines) + "\n"


def _publish(r: TrainResult, spec: model.NetworkSpec, scaler: Any, net: Any,
             test_origins: np.ndarray) -> None:
    """Every output is written atomically; the bundle last-but-one, metrics last."""
    out = atomic.ensure_dir(r.output_dir)
    table = forecasts_table(r.evaluation, r.frame.timestamps, test_origins, r.settings.target)
    atomic.write_text(out / FORECASTS_FILE, table.to_csv(index=False))
    atomic.write_text(out / HISTORY_FILE, _history_csv(r.history))
    write_bundle(out / BUNDLE_DIR, spec, _schema(r), scaler, r.settings.to_json(),
                 r.frame.fingerprint(), lambda p: model.save_weights(net, p),
                 write_onnx=lambda p: model.export_onnx(net, spec, p))
    report = metrics_report(r)
    atomic.write_text(out / METRICS_FILE, json.dumps(json_safe(report), indent=2) + "\n")
