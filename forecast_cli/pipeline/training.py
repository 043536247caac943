"""``forecast train``: load → lay out the panel → scale → window → fit → evaluate → publish.

One implementation for S ≥ 1 series: a file without ``--id-col`` is a panel of one. The parts
are ``panel`` (splits per series), ``fitting`` (the network over the panel's windows) and
``publish`` (every output file, where one series and many differ only in what is shown).
``prepare`` (data, settings, panel) touches no output, so ``runs`` can take the output
directory's lock after bad data has had its chance to fail, and stage ``fit_and_write``'s
outputs in a run directory.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from forecast_cli.core import precision
from forecast_cli.core.intervals import Intervals
from forecast_cli.core.panel_intervals import series_coverage, unbounded_warnings
from forecast_cli.core.splits import PARTS
from forecast_cli.data import calendar_features
from forecast_cli.data.frame import Frame, load_csv
from forecast_cli.data.frequency import window_lengths
from forecast_cli.errors import ConfigError, DataError
from forecast_cli.io import atomic
from forecast_cli.loadoptions import LoadOptions
from forecast_cli.model import api as model
from forecast_cli.model import signing
from forecast_cli.pipeline import ensemble, fitting, panel, transforming
from forecast_cli.pipeline.publish import publish
from forecast_cli.pipeline.train_result import TrainResult
from forecast_cli.settings import Settings


def resolve_settings(s: Settings, frame: Frame) -> Settings:
    """Fill what was left to the data: targets, season, horizon, lookback and precision.

    The defaults are ``frequency.window_lengths`` (shared with ``forecast validate``) and
    ``data_precision``.
    """
    # the frame's columns are the resolved names: the targets first, then --features
    target = frame.columns[: len(s.target)] if s.target else frame.columns
    season, horizon, lookback = window_lengths(frame.freq, s.season, s.horizon, s.lookback)
    if s.patch_len > lookback:
        raise ConfigError(f"`patch_len` must be ≤ the lookback ({lookback}). Got {s.patch_len}.")
    decimals = s.precision if s.precision is not None else data_precision(frame, len(target))
    return replace(s, target=tuple(target), season=season, horizon=horizon, lookback=lookback,
                   freq=frame.freq, time_col=frame.time_col, precision=decimals)


def data_precision(frame: Frame, n_targets: int) -> int:
    """The decimals outputs are written with: those of the target values read from the file
    (rows a gap fill inserted are left out; so are NaN cells of ``--fill drop``) plus
    ``precision.EXTRA``. Values interpolated into a row that was read still count: then every
    digit is written, as before precision was measured."""
    read = frame.values[frame.line_numbers > 0, :n_targets]
    return precision.for_data(read)


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
        patch_len=s.patch_len, n_future=n_future, linear_skip=s.linear_skip,
        members=ensemble.member_plan(s, s.lookback))


@dataclass(frozen=True)
class Prepared:
    """A training's first phase: data read and checked, settings resolved, panel laid out.

    Nothing is written and TensorFlow is not loaded yet, so bad data fails here leaving no
    trace in the output directory.
    """

    frame: Frame
    settings: Settings  # resolved: targets, season, horizon and lookback filled in
    panel: panel.Panel
    started: float  # time.perf_counter() when the training began


def prepare(data_path: Path, settings: Settings) -> Prepared:
    """Load and check the data, resolve the settings and lay out the panel's splits."""
    started = time.perf_counter()
    frame = _load(Path(data_path), settings)
    s = resolve_settings(settings, frame)
    assert s.lookback is not None
    assert s.horizon is not None
    assert s.season is not None
    p = panel.layout(frame, s.train_frac, s.val_frac, s.lookback, s.horizon, s.season, s.strict)
    n_train = len(p.origins("train", s.lookback, s.horizon)[0])
    if s.batch_size is None:  # recorded as used (metrics.json, the bundle's settings)
        s = replace(s, batch_size=fitting.auto_batch(n_train))
    if s.patience is None:
        s = replace(s, patience=fitting.auto_patience(n_train))
    signing.bundle_key()  # a bad bundle key (FORECAST_BUNDLE_KEY…) fails before training
    return Prepared(frame=frame, settings=s, panel=p, started=started)


def train(data_path: Path, settings: Settings,
          on_epoch: model.EpochCallback | None = None, *,
          backup_dir: Path | None = None) -> TrainResult:
    """Train, evaluate against baselines and write bundle, metrics, forecasts and history.

    The outputs are written into ``settings.output_dir`` itself (``outdir.OUTPUTS``), each
    atomically: a directory of one run, as a batch job stages it. ``runs.train`` (what
    ``forecast train`` and the library's ``train`` call) keeps numbered runs instead.

    One implementation for a panel of S ≥ 1 series (a file without ``--id-col`` is a panel of
    one): every series is split by time on its own, scaled by its own training rows, and gives
    windows that never cross series; one network is fitted on all of them. Prediction intervals
    are calibrated per series on the validation windows (split conformal) and their coverage is
    measured on the test windows. ``backup_dir``: resume an interrupted fit from its last
    completed epoch (see ``model.fit``).
    """
    prep = prepare(data_path, settings)
    atomic.ensure_dir(prep.settings.output_dir)  # fail before training, not after it
    return fit_and_write(prep, prep.settings.output_dir, on_epoch, backup_dir=backup_dir)


def fit_and_write(prep: Prepared, write_to: Path, on_epoch: model.EpochCallback | None = None,
                  *, backup_dir: Path | None = None) -> TrainResult:
    """Fit, calibrate and evaluate the prepared training; write its outputs into ``write_to``
    (the result's ``output_dir``; the settings keep the directory the user named)."""
    frame, s, p = prep.frame, prep.settings, prep.panel
    assert s.lookback is not None
    assert s.horizon is not None
    spec = _network_spec(s, len(frame.columns))
    parts = {part: p.origins(part, s.lookback, s.horizon) for part in PARTS}  # origins, series
    frame = fitting.with_keepout_note(frame, p, {k: len(o) for k, (o, _) in parts.items()}, s)
    future = calendar_features.future_columns(frame, spec.n_future)  # (n, n_future) or None
    starts = p.starts if p.short else None  # short series: padded windows
    # per-series scalers (and target transforms), applied per window: no scaled copy
    feed = transforming.train_feed(frame, p, s, future, starts)
    scalers = feed.scalers
    net, history = fitting.fit_network(feed.values, parts["train"], parts["val"], spec, s,
                                       on_epoch, backup_dir=backup_dir, future=future,
                                       scaler=scalers, starts=starts)
    # the median of the members chosen on validation, maybe blended with Theta: (its spec,
    # its network); from here on the feed forecasts what the bundle serves
    blends = ensemble.theta_blends(frame, p, s)
    spec, net, chosen = ensemble.choose(frame, p, s, feed, net, spec, parts["val"],
                                        parts["test"], blends)
    feed = replace(feed, theta=ensemble.served_blend(chosen["chosen"], blends))
    calib = fitting.calibrate(net, feed, parts["val"], frame.values[:, :len(s.target)], spec,
                              s.levels, p.ids)
    verdict = fitting.validation_verdict(frame, p, s, net, feed, parts["val"], spec)
    test_o, which = parts["test"]
    pred = feed.forecast(net, test_o, which, spec)  # (m, H, k)
    ev, per = fitting.evaluate(frame, p, s, pred, test_o, which)
    cov, cov_per = series_coverage(calib, ev.actual, pred, which, p.ids)
    single = frame.id_col is None
    only = calib.series[p.ids[0]]
    result = TrainResult(
        settings=s, frame=frame, bounds=p.bounds[0],
        windows={k: len(o) for k, (o, _) in parts.items()}, evaluation=ev, history=history,
        best_epoch=best_epoch(history), seconds=time.perf_counter() - prep.started,
        output_dir=write_to, panel=p, per_series=per, test_origins=test_o, test_which=which,
        calibration=calib, warnings=(*p.warnings, *unbounded_warnings(calib)), interval_scores=cov,
        series_interval_scores=cov_per,
        intervals=Intervals(calib.levels, only.half_widths, only.n_calibration) if single
        else None, validation=verdict, serving=serving(s, verdict), ensemble=chosen)
    served, fit, deployed = None, {"fit": "held-out"}, feed
    if s.refit:  # scalers and transforms fitted on every row, as the network is
        every_row = transforming.refit_feed(frame, p, s, future, starts)
        served, fit = ensemble.refit(frame, parts, spec, s, result.best_epoch, every_row)
        deployed = feed if served is None else every_row
    result = replace(result, bundle_fit=fit, seconds=time.perf_counter() - prep.started,
                     transform=transforming.record(deployed.transforms, frame, p, s))
    publish(result, spec, deployed.scalers, net if served is None else served)
    return result


def serving(s: Settings, verdict: dict[str, object]) -> str:
    """What the bundle serves: ``seasonal-naive`` when ``--fallback seasonal-naive`` is set
    and the network did not beat it on validation, else ``model``."""
    lost = verdict.get("beats_seasonal_naive") is False
    return "seasonal-naive" if s.fallback == "seasonal-naive" and lost else "model"


def best_epoch(history: dict[str, list[float]]) -> int:
    """1-based epoch of the lowest finite validation loss (the weights EarlyStopping restores)."""
    losses = np.asarray(history["val_loss"], dtype=np.float64)
    return int(np.nanargmin(np.where(np.isfinite(losses), losses, np.nan))) + 1


