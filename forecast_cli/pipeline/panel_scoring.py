"""``forecast evaluate`` for a model trained with ``--id-col``: every series' unseen windows.

As for one series (``scoring``), a window counts when all its targets lie after the bundle's
last training timestamp; here each series is windowed inside its own rows, scaled with its own
training scaler from the bundle, and scored overall and per series. MASE scales are each
series' in-sample seasonal-naive error before its first unseen row; per-series intervals, when
the bundle has them, are scored like ``forecast train`` does (``panel_intervals``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli.core.evaluation import MODEL, Evaluation, baseline_forecasts
from forecast_cli.core.metrics import mase_scale
from forecast_cli.core.panel_intervals import series_coverage
from forecast_cli.core.windowing import WindowSpec
from forecast_cli.data.frame import Frame
from forecast_cli.errors import DataError
from forecast_cli.model.bundle import Bundle
from forecast_cli.pipeline import panel
from forecast_cli.pipeline.panel_predict import _scalers
from forecast_cli.pipeline.scoring import BundleScore


def _unseen(frame: Frame, bundle: Bundle,
            known: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Series of ``known`` with unseen windows, their global origins (m,) and series index."""
    spec, last, edges = bundle.spec, bundle.schema.last_timestamp, frame.bounds()
    ids: list[str] = []
    found: list[np.ndarray] = []
    for sid in known:
        j = frame.series_ids.index(sid)
        a, b = int(edges[j]), int(edges[j + 1])
        first_new = int(frame.timestamps[a:b].searchsorted(last, side="right"))
        local = np.arange(max(first_new, spec.lookback, bundle.schema.season),
                          b - a - spec.horizon + 1, dtype=np.int64)
        if len(local):
            ids.append(sid)
            found.append(a + local)
    if not ids:
        raise DataError(
            f"{frame.path}: no window to score in any series: the model {bundle.path} was "
            f"trained on data up to {last}, and scoring needs {spec.lookback} input rows and "
            f"{spec.horizon} rows after that timestamp in a series. Evaluate again once more "
            "actuals have arrived.")
    which = np.concatenate([np.full(len(o), i, np.int64) for i, o in enumerate(found)])
    return ids, np.concatenate(found), which


def _scaled(frame: Frame, ids: list[str], scalers: list[Any]) -> np.ndarray:
    """Each series of ``ids`` scaled by its own training scaler (others left at 0). (n, F)."""
    out, edges = np.zeros_like(frame.values), frame.bounds()
    for sid, sc in zip(ids, scalers, strict=True):
        j = frame.series_ids.index(sid)
        out[edges[j]: edges[j + 1]] = sc.transform(frame.values[edges[j]: edges[j + 1]])
    return out


def score_panel(bundle: Bundle, data_path: Path) -> BundleScore:
    """Forecast every unseen window of every known series of ``data_path`` and score it."""
    from forecast_cli.data import calendar_features
    from forecast_cli.model import api as model
    from forecast_cli.pipeline.forecasting import check_compatible, load_for

    spec, schema = bundle.spec, bundle.schema
    frame = load_for(bundle, Path(data_path))
    check_compatible(bundle, frame)
    by_id = _scalers(bundle)
    ids, origins, which = _unseen(frame, bundle, [s for s in frame.series_ids if s in by_id])
    scalers = [by_id[sid] for sid in ids]
    future = calendar_features.future_columns(frame, spec.n_future)  # (n, n_future) or None
    x = model.window_dataset(_scaled(frame, ids, scalers), None, origins, spec, 1024,
                             future=future)
    net = model.load_network(spec, bundle.weights)
    pred = panel.inverse(model.predict(net, x), which, scalers, list(spec.target_index))
    targets = frame.values[:, list(spec.target_index)]
    actual = WindowSpec(spec.lookback, spec.horizon).targets(targets, origins)
    forecasts = {MODEL: pred, **baseline_forecasts(targets, origins, spec.horizon,
                                                   schema.season)}
    edges = frame.bounds()
    scales = np.stack([mase_scale(targets[int(edges[frame.series_ids.index(sid)]):
                                          int(origins[which == i].min())], schema.season)
                       for i, sid in enumerate(ids)])  # (S, k): rows before the first target
    overall: dict[str, dict[str, float]] = {}
    per: dict[str, dict[str, dict[str, float]]] = {sid: {} for sid in ids}
    for method, f in forecasts.items():
        overall[method], by_series = panel.scores(actual, f, which, scales)
        for i, sc in by_series.items():
            per[ids[i]][method] = sc
    cov: dict[str, dict[str, float]] = {}
    cov_per: dict[str, dict[str, Any]] | None = None
    if bundle.series_intervals is not None:
        cov, cov_per = series_coverage(bundle.series_intervals, actual, pred, which, tuple(ids))
    return BundleScore(bundle, frame, origins,
                       Evaluation(actual=actual, forecasts=forecasts, scores=overall), cov,
                       series=per, series_intervals=cov_per)
