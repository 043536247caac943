"""The network over a panel: fit, forecast, calibrate and score windows of S ≥ 1 series.

Windows are addressed by origin (``splits``) and carry the index of their series (``which``,
(m,)): every series is scaled by its own training statistics (``SeriesScalers``) and no window
crosses two series. A single series is the panel of one (``which`` all 0), for which every
number is the single-series computation's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli.core import keepout, seasonality
from forecast_cli.core.evaluation import MODEL, SEASONAL, Evaluation, baseline_forecasts
from forecast_cli.core.panel_intervals import SeriesIntervals, calibrate_series
from forecast_cli.core.scaling import Scaler, SeriesScalers
from forecast_cli.core.splits import PARTS
from forecast_cli.core.theta import ThetaBlend
from forecast_cli.core.transform import Transforms
from forecast_cli.core.windowing import WindowSpec
from forecast_cli.data.frame import Frame
from forecast_cli.errors import TrainingError
from forecast_cli.model import api as model
from forecast_cli.pipeline import panel
from forecast_cli.settings import Settings

Windows = tuple[np.ndarray, np.ndarray]  # origins (m,) and their series indices (m,)


def fit_network(values: np.ndarray, train: Windows, val: Windows | None,
                spec: model.NetworkSpec,
                s: Settings, on_epoch: model.EpochCallback | None = None, *,
                backup_dir: Path | None = None, future: np.ndarray | None = None,
                scaler: Scaler | SeriesScalers | None = None,
                starts: np.ndarray | None = None) -> tuple[Any, dict[str, list[float]]]:
    """Seed, build and fit a network on windows of ``values`` (n, F); best weights restored.

    ``train``, ``val``: the windows' origins (m,) and series indices (m,) into ``scaler``'s
    series. ``values`` is scaled already (``scaler`` None), or in original units with a
    ``Scaler`` or ``SeriesScalers`` applied window by window inside the input pipeline (no
    scaled copy of the data: see ``model.window_dataset``). Targets are its columns
    ``spec.target_index``; ``future`` (n, n_future): the known-future inputs when
    ``spec.n_future > 0`` (``future_columns``). Raises TrainingError when the validation loss
    never became finite. ``starts`` (S,): each series' first row, which no window reads
    before (the inputs of a short series' early windows are padded with it; see ``panel``).
    ``val`` None: ``s.epochs`` epochs on ``train`` without early stopping (a refit on every
    window, ``ensemble.refit``).
    """
    for at, which in (train,) if val is None else (train, val):  # nothing NaN reaches it
        keepout.check_windows(values, at, reads(at, which, starts, spec.lookback),
                              spec.horizon)
    batch = s.batch_size or auto_batch(len(train[0]))
    model.seed_everything(s.seed)
    net = model.training_network(spec)  # fused LSTM on CPU: see fused_lstm.fused_lstm_class
    train_ds = model.window_dataset(values, values, train[0], spec, batch,
                                    shuffle_seed=s.seed, future=future, scaler=scaler,
                                    series=_series(scaler, train[1]),
                                    first_rows=_firsts(starts, train[1]))
    val_ds = None if val is None else model.window_dataset(
        values, values, val[0], spec, batch, future=future, scaler=scaler,
        series=_series(scaler, val[1]), first_rows=_firsts(starts, val[1]))
    history = model.fit(net, train_ds, val_ds, model.FitOptions(
        s.optimizer, s.learning_rate, s.clipnorm, s.epochs,
        auto_patience(len(train[0])) if s.patience is None else s.patience), on_epoch,
        backup_dir=backup_dir)
    watched = history.get("loss" if val is None else "val_loss", [])
    if not np.isfinite(np.asarray(watched, dtype=np.float64)).any():
        raise TrainingError("training diverged (non-finite loss); nothing was saved. Try a "
                            "lower --learning-rate or --clipnorm.")
    return model.portable_network(net, spec), history


def _series(scaler: Scaler | SeriesScalers | None, which: np.ndarray) -> np.ndarray | None:
    """The series index of each window, for per-series scalers only."""
    return which if isinstance(scaler, SeriesScalers) else None


def auto_batch(n_windows: int) -> int:
    """The default batch size (``batch_size`` None): 32, or for a big panel the power of two
    nearest ~500 steps an epoch, at most 512: M3 monthly's 55,625 windows take 435 steps of
    128, not 1,739 of 32 (issue 15: its 1,428 series in minutes on two cores)."""
    if n_windows <= 32 * 500:
        return 32
    return int(min(512, 2 ** round(math.log2(n_windows / 500))))


BIG_PANEL = 10_000  # training windows from which the default patience is 5


def auto_patience(n_windows: int) -> int:
    """The default patience (``patience`` None): 20, or 5 from ``BIG_PANEL`` training windows
    on. On M3 monthly the best epoch was 4 of 24 (1,428 series) and 1 of 21 (357 series,
    bench/results/m3_ensemble.md): the last 20 epochs of each were spent finding nothing,
    and an ensemble makes every epoch cost more."""
    return 20 if n_windows < BIG_PANEL else 5


def _firsts(starts: np.ndarray | None, which: np.ndarray) -> np.ndarray | None:
    """The first row of each window's series (m,), or None when no series is padded."""
    return None if starts is None else np.asarray(starts, np.int64)[which]


def reads(at: np.ndarray, which: np.ndarray, starts: np.ndarray | None,
          lookback: int) -> np.ndarray | int:
    """How many rows of its own each window at ``at`` (m,) reads: ``lookback``, fewer for a
    padded window of a short series. (m,) or the int ``lookback``."""
    if starts is None:
        return lookback
    return np.asarray(np.minimum(lookback, at - np.asarray(starts, np.int64)[which]))


def one_series(origins: np.ndarray) -> Windows:
    """Windows of a single series: its origins, all of series 0."""
    return origins, np.zeros(len(origins), np.int64)


def forecast_windows(net: Any, values: np.ndarray, origins: np.ndarray,
                     spec: model.NetworkSpec, scaler: Scaler,
                     future: np.ndarray | None = None, *, scaled: bool = True) -> np.ndarray:
    """Forecasts of the windows at ``origins`` of one series, original units. → (m, H, k).

    values (n, F): scaled by ``scaler`` already, or (``scaled=False``) in original units.
    ``future`` (n, n_future): the known-future inputs of every row, when the spec has them.
    """
    scalers = SeriesScalers((scaler,))
    feed = Feed(values, None if scaled else scalers, scalers, future)
    return feed.forecast(net, *one_series(origins), spec)


@dataclass(frozen=True)
class Feed:
    """What the network reads: the data (n, F) and each series' scaler.

    ``scaling`` is None when ``values`` is scaled already, else ``scalers`` themselves, applied
    window by window inside the input pipeline, so no scaled copy of the data is made.
    With ``transforms`` (``core.transform``), ``values``' targets are transformed and the
    forecasts are turned back into original units, each row at its phase
    (``seasonality.phases`` from ``bases``).
    """

    values: np.ndarray
    scaling: SeriesScalers | None
    scalers: SeriesScalers
    future: np.ndarray | None
    starts: np.ndarray | None = None  # (S,) first row of each series: padding of short ones
    transforms: Transforms | None = None  # the targets' transforms, per series
    bases: np.ndarray | None = None  # (S,) global row of phase 0 of each series
    unit_scales: np.ndarray | None = None  # (S, k) target scales in original units
    theta: ThetaBlend | None = None  # served: the network blended with Theta (``ensemble``)

    @classmethod
    def of(cls, values: np.ndarray, scalers: SeriesScalers, future: np.ndarray | None,
           starts: np.ndarray | None = None) -> Feed:
        """Data in original units, scaled on the fly by ``scalers``."""
        return cls(values, scalers, scalers, future, starts)

    def target_scales(self, spec: model.NetworkSpec) -> np.ndarray:
        """(S, k) each series' target scale in original units (the pooled intervals')."""
        if self.unit_scales is not None:
            return self.unit_scales
        return self.scalers.select(list(spec.target_index)).scale

    def forecast(self, net: Any, origins: np.ndarray, which: np.ndarray,
                 spec: model.NetworkSpec) -> np.ndarray:
        """Forecasts of the windows at ``origins`` of series ``which`` (m,), original units,
        blended with Theta's when the feed has a ``theta`` blend. → (m, horizon, k)."""
        keepout.check_windows(self.values, origins,
                              reads(origins, which, self.starts, spec.lookback), 0)
        x = model.window_dataset(self.values, None, origins, spec, 1024, future=self.future,
                                 scaler=self.scaling,
                                 series=None if self.scaling is None else which,
                                 first_rows=_firsts(self.starts, which))
        targets = self.scalers.select(list(spec.target_index))
        pred = targets.inverse(model.predict(net, x), which)
        if self.transforms is not None:
            assert self.bases is not None
            rows = origins[:, None] + np.arange(spec.horizon)  # (m, H) global rows
            phase = seasonality.phases(rows, self.bases[which][:, None], self.transforms.season)
            pred = self.transforms.inverse(pred, np.broadcast_to(which[:, None], rows.shape),
                                           phase)
        if not np.isfinite(pred).all():
            raise TrainingError("the trained network produced non-finite forecasts; nothing "
                                "saved.")
        if self.theta is not None:
            pred = self.theta.mix(pred, self.theta.forecasts(origins, which, spec.horizon))
        return pred


def calibrate(net: Any, feed: Feed, val: tuple[np.ndarray, np.ndarray], actual_rows: np.ndarray,
              spec: model.NetworkSpec, levels: tuple[float, ...],
              ids: tuple[str, ...]) -> SeriesIntervals:
    """Per-series conformal half-widths from the validation windows (see panel_intervals).

    val: origins (m,) and their series (m,); actual_rows (n, k): the targets, original units.
    """
    origins, which = val
    actual = WindowSpec(0, spec.horizon).targets(actual_rows, origins)  # padded: t < lookback
    errors = np.abs(actual - feed.forecast(net, origins, which, spec))
    scales = feed.target_scales(spec)  # (S, k)
    return calibrate_series(errors, which, ids, scales, levels)


def evaluate(frame: Frame, p: panel.Panel, s: Settings, pred: np.ndarray, test_o: np.ndarray,
              which: np.ndarray) -> tuple[Evaluation, dict[str, dict[str, dict[str, float]]]]:
    """The model and both baselines on the identical test windows, overall and per series."""
    assert s.lookback is not None
    assert s.horizon is not None
    assert s.season is not None
    k = len(s.target)
    target_values = frame.values[:, :k]
    actual = WindowSpec(0, s.horizon).targets(target_values, test_o)  # padded: t < lookback
    forecasts = {MODEL: pred, **baseline_forecasts(target_values, test_o, s.horizon, s.season)}
    scales = panel.mase_scales(frame, p, s.season)[:, :k]
    overall, per = panel.score_methods(actual, forecasts, which, scales, p.ids)
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




def validation_verdict(frame: Frame, p: panel.Panel, s: Settings, net: Any, feed: Feed,
                       val: Windows, spec: model.NetworkSpec) -> dict[str, Any]:
    """The model against seasonal naive on the validation windows, the only ones a choice may
    be made on: scores of both and whether the model's MASE is lower. Windows with fewer than
    one season of their series before them (short series) have no seasonal naive: left out."""
    assert s.season is not None
    assert s.horizon is not None
    origins, which = val
    keep = origins - p.starts[which] >= s.season
    origins, which = origins[keep], which[keep]
    if not len(origins):
        return {"windows": 0, "beats_seasonal_naive": None}
    k = len(s.target)
    target_values = frame.values[:, :k]
    actual = WindowSpec(0, s.horizon).targets(target_values, origins)
    forecasts = {MODEL: feed.forecast(net, origins, which, spec),
                 SEASONAL: baseline_forecasts(target_values, origins, s.horizon,
                                              s.season)[SEASONAL]}
    scales = panel.mase_scales(frame, p, s.season)[:, :k]
    overall, _ = panel.score_methods(actual, forecasts, which, scales, p.ids)
    # MASE, or MAE where a series' scale is 0 (seasonal naive exact in-sample): NaN compares
    metric = "mase" if all(np.isfinite(overall[m]["mase"]) for m in (MODEL, SEASONAL)) else "mae"
    beats = bool(overall[MODEL][metric] < overall[SEASONAL][metric])
    return {"windows": len(origins), "metric": metric, MODEL: overall[MODEL],
            SEASONAL: overall[SEASONAL], "beats_seasonal_naive": beats}
