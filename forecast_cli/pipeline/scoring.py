"""``forecast evaluate``: score an existing bundle on data it has not seen.

A window counts when every one of its targets lies after the bundle's last training timestamp
(``DataSchema.last_timestamp``); its inputs may reach back into rows the model saw. The model,
naive and seasonal naive are scored on the identical windows in original units; MASE uses the
in-sample seasonal-naive error of the rows before the first unseen row. When the bundle carries
prediction intervals their empirical coverage and mean width are reported too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli.core.evaluation import MODEL, Evaluation, baseline_forecasts, evaluate
from forecast_cli.core.intervals import coverage
from forecast_cli.core.metrics import mase_scale
from forecast_cli.core.windowing import WindowSpec
from forecast_cli.data.frame import Frame
from forecast_cli.errors import DataError
from forecast_cli.model.bundle import Bundle, read_bundle


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

    def to_json(self) -> dict[str, Any]:
        ts = self.frame.timestamps
        targets = ts[(self.origins[:, None] + np.arange(self.bundle.spec.horizon)).ravel()]
        out = {"model": str(self.bundle.path), "data": str(self.frame.path),
               "trained_until": self.bundle.schema.last_timestamp.isoformat(),
               "windows": len(self.origins),
               "first_target": targets.min().isoformat(),
               "last_target": targets.max().isoformat(),
               "scores": self.evaluation.scores, "intervals": self.interval_scores}
        if self.series is not None:
            out["series"] = self.series
        if self.series_intervals is not None:
            out["series_intervals"] = self.series_intervals
        return out


def unseen_origins(frame: Frame, bundle: Bundle) -> np.ndarray:
    """Origins of the stride-1 windows whose targets all lie after the training data. (m,)."""
    spec, last = bundle.spec, bundle.schema.last_timestamp
    first_new = int(frame.timestamps.searchsorted(last, side="right"))
    first = max(first_new, spec.lookback, bundle.schema.season)
    stop = len(frame.values) - spec.horizon
    if stop < first:
        raise DataError(
            f"{frame.path}: no window to score: the model {bundle.path} was trained on data up "
            f"to {last}, and scoring needs {spec.lookback} input rows and {spec.horizon} rows "
            f"after that timestamp ({len(frame.values) - first_new} found). Evaluate again "
            "once more actuals have arrived.")
    return np.arange(first, stop + 1, dtype=np.int64)


def score_bundle(bundle_dir: Path, data_path: Path) -> BundleScore:
    """Forecast every unseen window of ``data_path`` with the bundle and score it."""
    from forecast_cli.data import calendar_features
    from forecast_cli.model import api as model
    from forecast_cli.pipeline.forecasting import check_compatible, load_for
    from forecast_cli.pipeline.training import forecast_windows

    bundle = read_bundle(Path(bundle_dir))
    if bundle.schema.panel is not None:
        from forecast_cli.pipeline.panel_scoring import score_panel

        return score_panel(bundle, Path(data_path))
    schema, spec = bundle.schema, bundle.spec
    frame = load_for(bundle, Path(data_path))  # with the calendar columns, if trained so
    check_compatible(bundle, frame)
    at = unseen_origins(frame, bundle)
    net = model.load_network(spec, bundle.weights)
    future = calendar_features.future_columns(frame, spec.n_future)  # (n, n_future) or None
    pred = forecast_windows(net, bundle.scaler.transform(frame.values), at, spec, bundle.scaler,
                            future)
    targets = frame.values[:, list(spec.target_index)]
    actual = WindowSpec(spec.lookback, spec.horizon).targets(targets, at)
    forecasts = {MODEL: pred, **baseline_forecasts(targets, at, spec.horizon, schema.season)}
    ev = evaluate(actual, forecasts, mase_scale(targets[: at[0]], schema.season))
    cov = coverage(bundle.intervals, actual, pred) if bundle.intervals is not None else {}
    return BundleScore(bundle, frame, at, ev, cov)
