"""Champion against challenger: score the current model on the new model's holdout windows.

The challenger's score is its MAE on the test windows of the latest data (computed by
training). The champion is run on exactly those windows, with its own scaler and lookback,
so the two numbers are comparable; windows the champion's lookback cannot reach, that would
read a row kept out with ``fill = "drop"``, or (many series) of a series the champion was not
trained on, are left out of both. With many series (``id_col``) each window is scaled by the
champion's scaler of its own series. A champion that cannot run on the data (other columns,
other horizon, one series against many, unreadable) has no score, and the challenger wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from forecast_cli.core import keepout, metrics
from forecast_cli.core.evaluation import MODEL
from forecast_cli.core.scaling import Scaler, SeriesScalers
from forecast_cli.errors import ForecastError
from forecast_cli.model import api as model
from forecast_cli.model.bundle import Bundle, read_bundle
from forecast_cli.pipeline import bundle_series, transforming
from forecast_cli.pipeline.train_result import TrainResult


@dataclass(frozen=True)
class Comparison:
    champion_mae: float | None
    challenger_mae: float
    note: str = ""


def _incompatibility(bundle: Bundle, result: TrainResult) -> str | None:
    s = result.settings
    if bundle.spec.horizon != s.horizon:
        return f"horizon {bundle.spec.horizon} differs from {s.horizon}"
    if tuple(bundle.schema.targets) != tuple(s.target):
        return f"targets {list(bundle.schema.targets)} differ from {list(s.target)}"
    missing = [c for c in bundle.schema.inputs if c not in result.frame.columns]
    if missing:
        return f"the data lacks its input column(s) {', '.join(missing)}"
    if (bundle.schema.panel is None) != (result.frame.id_col is None):
        many = "the current" if bundle.schema.panel is not None else "the new"
        return f"{many} model forecasts many series (id_col), the other one series"
    return None


@dataclass(frozen=True)
class HoldoutWindows:
    """The challenger's test windows, in the order of its evaluation."""

    origins: np.ndarray  # (m,) global rows of the first forecast step
    series: np.ndarray  # (m,) the series of each ("" for one series)
    starts: np.ndarray  # (m,) the first row of each window's series


def holdout_windows(result: TrainResult) -> HoldoutWindows:
    """What training scored: its test windows (with ``fill = "drop"``, the kept ones)."""
    p, which = result.panel, result.test_which
    return HoldoutWindows(result.test_origins, np.asarray(p.ids, dtype=object)[which],
                          p.starts[which])


def _scalers(bundle: Bundle, result: TrainResult) -> dict[str, Scaler]:
    """The champion's scaler of each series of the data it knows ("" for one series)."""
    known = set(bundle_series.frame_ids(result.frame))
    return {sid: sc for sid, sc in bundle_series.scalers(bundle).items() if sid in known}


def _usable(bundle: Bundle, result: TrainResult, w: HoldoutWindows,
            scalers: dict[str, Scaler]) -> np.ndarray:
    """(m,) bool: the test windows the champion can forecast."""
    lookback = bundle.spec.lookback
    keep = (w.origins - w.starts >= lookback) & np.isin(w.series, list(scalers))
    missing = result.frame.missing_rows()
    if missing.any():
        assert result.settings.horizon is not None
        fine = keepout.complete(missing, w.origins[keep], lookback, result.settings.horizon)
        keep &= np.isin(w.origins, fine)
    return np.asarray(keep)


def _champion_forecasts(bundle: Bundle, result: TrainResult, w: HoldoutWindows,
                        scalers: dict[str, Scaler]) -> np.ndarray:
    """The champion's forecasts of windows ``w`` (all usable) → (m, horizon, k), original
    units, each series scaled by its own scaler."""
    frame = result.frame
    cols = [frame.columns.index(c) for c in bundle.schema.inputs]
    inputs = frame.values[:, cols]  # (n, F) in the champion's column order
    n_future = bundle.spec.n_future  # its calendar columns are the last of its inputs
    future = inputs[:, len(cols) - n_future:] if n_future else None
    ids = sorted({str(sid) for sid in w.series})
    which = np.searchsorted(ids, w.series.astype(str))  # (m,) index into ids
    own = SeriesScalers(tuple(scalers[sid] for sid in ids))
    net = model.load_network(bundle.spec, bundle.weights)
    feed = transforming.bundle_feed(bundle, frame, inputs, ids, own, future)
    return feed.forecast(net, w.origins, which, bundle.spec)


def compare(champion_bundle: Path | None, result: TrainResult) -> Comparison:
    """MAE of the champion and of the challenger on the challenger's test windows."""
    actual = result.evaluation.actual  # (m, H, k)
    challenger = result.evaluation.forecasts[MODEL]
    if champion_bundle is None:
        return Comparison(None, metrics.mae(actual, challenger), "no current model")
    try:
        bundle = read_bundle(champion_bundle)
        why = _incompatibility(bundle, result)
        scalers = _scalers(bundle, result) if why is None else {}
    except ForecastError as exc:
        return Comparison(None, metrics.mae(actual, challenger), f"current model unusable: {exc}")
    if why:
        return Comparison(None, metrics.mae(actual, challenger), f"not comparable: {why}")
    windows = holdout_windows(result)
    if len(windows.origins) != len(actual):  # a bug, not the data: say so, do not guess
        raise RuntimeError(f"{len(windows.origins)} test windows found, {len(actual)} scored")
    keep = _usable(bundle, result, windows, scalers)
    if not keep.any():
        return Comparison(None, metrics.mae(actual, challenger),
                          "not comparable: the current model can forecast none of the "
                          "test windows (a longer lookback, or other series)")
    kept = HoldoutWindows(windows.origins[keep], windows.series[keep], windows.starts[keep])
    champ = _champion_forecasts(bundle, result, kept, scalers)
    return Comparison(metrics.mae(actual[keep], champ),
                      metrics.mae(actual[keep], challenger[keep]))
