"""``forecast evaluate``: score an existing bundle on data it has not seen.

A window counts when every one of its targets lies after the bundle's last training timestamp
(``DataSchema.last_timestamp``); its inputs may reach back into rows the model saw. Each series
is windowed inside its own rows and scaled by its own training scaler; the model, naive and
seasonal naive are scored on the identical windows in original units, overall and per series
(shown for ``--id-col`` models). MASE uses each series' in-sample seasonal-naive error of the
rows before its first unseen row. When the bundle carries prediction intervals their empirical
coverage and mean width are reported too. A file without ``--id-col`` is the panel of one.
A series of a panel too short for one such window (fewer than ``lookback`` rows before it) is
scored on padded windows, as ``train`` forecasts its short series, and flagged
``short_history``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli.core.evaluation import MODEL, Evaluation, baseline_forecasts
from forecast_cli.core.metrics import mase_scale
from forecast_cli.core.panel_intervals import series_coverage
from forecast_cli.core.precision import rounded_floats
from forecast_cli.core.scaling import SeriesScalers
from forecast_cli.core.windowing import WindowSpec
from forecast_cli.data.frame import Frame
from forecast_cli.errors import DataError
from forecast_cli.io import links
from forecast_cli.io.forecast_output import SCHEMA_VERSION, stamp
from forecast_cli.model.bundle import Bundle, read_bundle
from forecast_cli.pipeline import bundle_series, panel, transforming
from forecast_cli.pipeline.inputs import check_compatible, load_for
from forecast_cli.pipeline.panel import SHORT_REACH


@dataclass(frozen=True)
class BundleScore:
    """Scores of a bundle on the unseen windows of a data file."""

    bundle: Bundle
    frame: Frame
    origins: np.ndarray  # (m,) first target row of each scored window
    evaluation: Evaluation
    interval_scores: dict[str, dict[str, float]]
    # many series (--id-col): series id → method → metric, and per-series interval scores
    series: dict[str, dict[str, dict[str, float]]] | None = None
    series_intervals: dict[str, dict[str, Any]] | None = None
    short: tuple[str, ...] = ()  # series scored on padded windows (fewer rows than needed)

    def to_json(self, precision: int | None = None) -> dict[str, Any]:
        """The report; scores, coverages and widths to ``precision`` decimal places
        (``--precision``; None: every digit)."""
        ts, tz = self.frame.timestamps, self.bundle.schema.tz
        targets = ts[(self.origins[:, None] + np.arange(self.bundle.spec.horizon)).ravel()]
        out = {"schema_version": SCHEMA_VERSION, "model": str(self.bundle.path),
               "data": str(self.frame.path),
               "trained_until": stamp(self.bundle.schema.last_timestamp, tz),
               "windows": len(self.origins),
               "first_target": stamp(targets.min(), tz),
               "last_target": stamp(targets.max(), tz),
               "scores": self.evaluation.scores, "intervals": self.interval_scores}
        if self.series is not None:
            out["series"] = self.series
        if self.series_intervals is not None:
            out["series_intervals"] = self.series_intervals
        if self.short:
            out["short_history"] = list(self.short)
        return {k: rounded_floats(v, precision) for k, v in out.items()}


def unseen_origins(frame: Frame, bundle: Bundle,
                   known: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Series of ``known`` with unseen windows, their global origins (m,) and series index
    (m,) into the returned ids. DataError when no series has one."""
    spec, last, edges = bundle.spec, bundle.schema.last_timestamp, frame.bounds()
    all_ids = bundle_series.frame_ids(frame)
    ids: list[str] = []
    found: list[np.ndarray] = []
    for sid in known:
        j = all_ids.index(sid)
        a, b = int(edges[j]), int(edges[j + 1])
        first_new = int(frame.timestamps[a:b].searchsorted(last, side="right"))
        local = np.arange(max(first_new, spec.lookback, bundle.schema.season),
                          b - a - spec.horizon + 1, dtype=np.int64)
        if not len(local) and frame.id_col is not None:  # short: padded windows, as train's
            local = np.arange(max(first_new, SHORT_REACH, bundle.schema.season),
                              b - a - spec.horizon + 1, dtype=np.int64)
        if len(local):
            ids.append(sid)
            found.append(a + local)
    if not ids:
        n_new = len(frame.values) - int(frame.timestamps.searchsorted(last, side="right"))
        where = ("" if frame.id_col is None else " in any series")
        found_rows = "" if frame.id_col is not None else f" ({n_new} found)"
        raise DataError(
            f"{frame.path}: no window to score{where}: the model {bundle.path} was trained on "
            f"data up to {last}, and scoring needs {spec.lookback} input rows and "
            f"{spec.horizon} rows after that timestamp{' in a series' if where else ''}"
            f"{found_rows}. Evaluate again once more actuals have arrived.")
    which = np.concatenate([np.full(len(o), i, np.int64) for i, o in enumerate(found)])
    return ids, np.concatenate(found), which


def score_bundle(bundle_dir: Path, data_path: Path,
                 reading: Mapping[str, Any] | None = None) -> BundleScore:
    """Forecast every unseen window of every known series of ``data_path`` and score it.

    ``reading``: reading options for this file in place of those the model was trained with.
    """
    from forecast_cli.data import calendar_features
    from forecast_cli.model import api as model

    bundle = read_bundle(links.resolved(Path(bundle_dir)))  # OUT/model: one run's files
    spec, schema = bundle.spec, bundle.schema
    frame = load_for(bundle, Path(data_path), reading)  # with calendar columns, if trained so
    check_compatible(bundle, frame)
    by_id = bundle_series.scalers(bundle)
    ids, origins, which = unseen_origins(
        frame, bundle, [s for s in bundle_series.frame_ids(frame) if s in by_id])
    scalers = SeriesScalers(tuple(by_id[sid] for sid in ids))
    future = calendar_features.future_columns(frame, spec.n_future)  # (n, n_future) or None
    net = model.load_network(spec, bundle.weights)
    edges, all_ids = frame.bounds(), bundle_series.frame_ids(frame)
    starts = np.asarray([edges[all_ids.index(sid)] for sid in ids], np.int64)  # (S,)
    short = tuple(sid for i, sid in enumerate(ids)
                  if (origins[which == i] - starts[i] < spec.lookback).any())
    feed = transforming.bundle_feed(bundle, frame, frame.values, ids, scalers, future,
                                    starts if short else None)
    pred = feed.forecast(net, origins, which, spec)
    targets = frame.values[:, list(spec.target_index)]
    actual = WindowSpec(spec.lookback, spec.horizon).targets(targets, origins)
    forecasts = {MODEL: pred, **baseline_forecasts(targets, origins, spec.horizon,
                                                   schema.season)}
    scales = np.stack([mase_scale(targets[int(edges[all_ids.index(sid)]):
                                          int(origins[which == i].min())], schema.season)
                       for i, sid in enumerate(ids)])  # (S, k): rows before the first target
    overall, per = panel.score_methods(actual, forecasts, which, scales, ids)
    cov: dict[str, dict[str, float]] = {}
    cov_per: dict[str, dict[str, Any]] | None = None
    widths = bundle_series.intervals(bundle)
    if widths is not None:
        cov, cov_per = series_coverage(widths, actual, pred, which, tuple(ids))
    many = frame.id_col is not None
    return BundleScore(bundle, frame, origins,
                       Evaluation(actual=actual, forecasts=forecasts, scores=overall), cov,
                       series=per if many else None, series_intervals=cov_per if many else None,
                       short=short)
