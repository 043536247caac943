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

from forecast_cli import atomic, keepout, model, panel
from forecast_cli.bundle import DataSchema, write_bundle
from forecast_cli.config import Settings
from forecast_cli.data import Frame
from forecast_cli.errors import TrainingError
from forecast_cli.evaluation import MODEL, Evaluation, baseline_forecasts, forecasts_table
from forecast_cli.scaling import fit_scaler
from forecast_cli.splits import PARTS
from forecast_cli.windowing import WindowSpec


def _fit(scaled: np.ndarray, p: panel.Panel, spec: model.NetworkSpec,
         s: Settings, on_epoch: model.EpochCallback | None) -> tuple[Any, dict[str, list[float]]]:
    assert s.lookback is not None
    assert s.horizon is not None
    train_o, _ = p.origins("train", s.lookback, s.horizon)
    val_o, _ = p.origins("val", s.lookback, s.horizon)
    for at in (train_o, val_o):  # nothing NaN ever reaches the network (--fill drop)
        keepout.check_windows(scaled, at, s.lookback, s.horizon)
    model.seed_everything(s.seed)
    net = model.build_network(spec)
    k = spec.n_targets  # targets come first among the inputs, then --features
    train_ds = model.window_dataset(scaled, scaled[:, :k], train_o, spec, s.batch_size,
                                    shuffle_seed=s.seed)
    val_ds = model.window_dataset(scaled, scaled[:, :k], val_o, spec, s.batch_size)
    history = model.fit(net, train_ds, val_ds, model.FitOptions(
        s.optimizer, s.learning_rate, s.clipnorm, s.epochs, s.patience), on_epoch)
    val_losses = history.get("val_loss", [])
    if not val_losses or not np.isfinite(min(val_losses)):
        raise TrainingError("training diverged (non-finite loss); nothing was saved. Try a "
                            "lower --learning-rate or --clipnorm.")
    return net, history


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


def train_panel(frame: Frame, s: Settings, spec: model.NetworkSpec,
                on_epoch: model.EpochCallback | None, started: float) -> Any:
    """Train one network on every series long enough; returns a ``training.TrainResult``."""
    from forecast_cli.training import TrainResult

    assert s.lookback is not None
    assert s.horizon is not None
    assert s.season is not None
    p = panel.layout(frame, s.train_frac, s.val_frac, s.lookback, s.horizon, s.season, s.strict)
    scaled, scalers = panel.scale(frame, p, s.scaler)
    net, history = _fit(scaled, p, spec, s, on_epoch)
    test_o, which = p.origins("test", s.lookback, s.horizon)
    keepout.check_windows(scaled, test_o, s.lookback, 0)
    x = model.window_dataset(scaled, None, test_o, spec, 1024)
    pred = panel.inverse(model.predict(net, x), which, scalers, list(spec.target_index))
    if not np.isfinite(pred).all():
        raise TrainingError("the trained network produced non-finite forecasts; nothing saved.")
    ev, per = _evaluate(frame, p, s, pred, test_o, which)
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
                         series_scores=per, warnings=p.warnings)
    _publish(result, p, spec, scalers, net, test_o, which)
    return result


def _publish(r: Any, p: panel.Panel, spec: model.NetworkSpec, scalers: list[Any], net: Any,
             test_o: np.ndarray, which: np.ndarray) -> None:
    from forecast_cli.training import (
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
    table = forecasts_table(r.evaluation, f.timestamps, test_o, s.target)
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
                 lambda path: model.save_weights(net, path))
    report = metrics_report(r)
    atomic.write_text(out / METRICS_FILE, json.dumps(json_safe(report), indent=2) + "\n")
