"""The network over a panel: fit, forecast, calibrate and score windows of S ≥ 1 series.

Windows are addressed by origin (``splits``) and carry the index of their series (``which``,
(m,)): every series is scaled by its own training statistics (``SeriesScalers``) and no window
crosses two series. A single series is the panel of one (``which`` all 0), for which every
number is the single-series computation's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli.core import keepout
from forecast_cli.core.evaluation import MODEL, Evaluation, baseline_forecasts
from forecast_cli.core.panel_intervals import SeriesIntervals, calibrate_series
from forecast_cli.core.scaling import Scaler, SeriesScalers
from forecast_cli.core.splits import PARTS
from forecast_cli.core.windowing import WindowSpec
from forecast_cli.data.frame import Frame
from forecast_cli.errors import TrainingError
from forecast_cli.model import api as model
from forecast_cli.pipeline import panel
from forecast_cli.settings import Settings


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


@dataclass(frozen=True)
class Feed:
    """What the network reads: the data in original units and the per-series scaling.

    values (n, F); ``scaler`` is applied batch by batch inside the input pipeline (no scaled
    copy) for one series. Several series are, for now, fed as a scaled copy (``scaler`` None).
    """

    values: np.ndarray
    scaler: Scaler | None
    scalers: SeriesScalers
    future: np.ndarray | None

    @classmethod
    def of(cls, frame: Frame, p: panel.Panel, scalers: SeriesScalers,
           future: np.ndarray | None) -> Feed:
        if len(scalers) == 1:
            return cls(frame.values, scalers.scalers[0], scalers, future)
        scaled = np.zeros_like(frame.values)
        for start, b, sc in zip(p.starts, p.bounds, scalers.scalers, strict=True):
            rows = slice(int(start), int(start) + b.n)
            scaled[rows] = sc.transform(frame.values[rows])
        return cls(scaled, None, scalers, future)

    def forecast(self, net: Any, origins: np.ndarray, which: np.ndarray,
                 spec: model.NetworkSpec) -> np.ndarray:
        """Forecasts of the windows at ``origins`` of series ``which`` (m,), original units.
        → (m, horizon, k)."""
        keepout.check_windows(self.values, origins, spec.lookback, 0)
        x = model.window_dataset(self.values, None, origins, spec, 1024, future=self.future,
                                 scaler=self.scaler)
        targets = self.scalers.select(list(spec.target_index))
        pred = targets.inverse(model.predict(net, x), which)
        if not np.isfinite(pred).all():
            raise TrainingError("the trained network produced non-finite forecasts; nothing "
                                "saved.")
        return pred


def calibrate(net: Any, feed: Feed, val: tuple[np.ndarray, np.ndarray], actual_rows: np.ndarray,
              spec: model.NetworkSpec, levels: tuple[float, ...],
              ids: tuple[str, ...]) -> SeriesIntervals:
    """Per-series conformal half-widths from the validation windows (see panel_intervals).

    val: origins (m,) and their series (m,); actual_rows (n, k): the targets, original units.
    """
    origins, which = val
    actual = WindowSpec(spec.lookback, spec.horizon).targets(actual_rows, origins)
    errors = np.abs(actual - feed.forecast(net, origins, which, spec))
    scales = feed.scalers.select(list(spec.target_index)).scale  # (S, k)
    return calibrate_series(errors, which, ids, scales, levels)


def evaluate(frame: Frame, p: panel.Panel, s: Settings, pred: np.ndarray, test_o: np.ndarray,
              which: np.ndarray) -> tuple[Evaluation, dict[str, dict[str, dict[str, float]]]]:
    """The model and both baselines on the identical test windows, overall and per series."""
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


def with_keepout_note(frame: Frame, p: panel.Panel, kept: dict[str, int],
                      s: Settings) -> Frame:
    """--fill drop: record in the frame's fixes what the kept-out rows cost in windows."""
    if p.missing is None:
        return frame
    assert s.lookback is not None
    assert s.horizon is not None
    total: dict[str, int] = {
        part: len(p.origins(part, s.lookback, s.horizon, complete_only=False)[0])
        for part in PARTS}
    note = keepout.cost_note(int(p.missing.sum()), kept, total)
    return replace(frame, fixes=(*frame.fixes, note))


