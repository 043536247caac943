"""Champion against challenger: score the current model on the new model's holdout windows.

The challenger's score is its MAE on the test windows of the latest data (computed by
training). The champion is run on exactly those windows, with its own scaler and lookback,
so the two numbers are comparable; windows the champion's lookback cannot reach are left out
of both. A champion that cannot run on the data (other columns, other horizon, unreadable)
has no score, and the challenger wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from forecast_cli.core import metrics
from forecast_cli.core.evaluation import MODEL
from forecast_cli.core.splits import origins
from forecast_cli.errors import ForecastError
from forecast_cli.model import api as model
from forecast_cli.model.bundle import Bundle, read_bundle
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
    return None


def _champion_forecasts(bundle: Bundle, result: TrainResult, kept: np.ndarray) -> np.ndarray:
    """The champion's forecasts at origins ``kept`` (m,) → (m, horizon, k), original units."""
    frame = result.frame
    cols = [frame.columns.index(c) for c in bundle.schema.inputs]
    scaled = bundle.scaler.transform(frame.values[:, cols])  # (n, F)
    net = model.load_network(bundle.spec, bundle.weights)
    n_future = bundle.spec.n_future  # its calendar columns are the last of its inputs
    future = frame.values[:, cols[len(cols) - n_future:]] if n_future else None
    ds = model.window_dataset(scaled, None, kept, bundle.spec, 1024, future=future)
    pred = model.predict(net, ds)  # (m, H, k) scaled
    return bundle.scaler.select(list(bundle.spec.target_index)).inverse(pred)


def compare(champion_bundle: Path | None, result: TrainResult) -> Comparison:
    """MAE of the champion and of the challenger on the challenger's test windows."""
    s = result.settings
    assert s.lookback is not None
    assert s.horizon is not None
    actual = result.evaluation.actual  # (m, H, k)
    challenger = result.evaluation.forecasts[MODEL]
    if champion_bundle is None:
        return Comparison(None, metrics.mae(actual, challenger), "no current model")
    try:
        bundle = read_bundle(champion_bundle)
    except ForecastError as exc:
        return Comparison(None, metrics.mae(actual, challenger), f"current model unusable: {exc}")
    why = _incompatibility(bundle, result)
    if why:
        return Comparison(None, metrics.mae(actual, challenger), f"not comparable: {why}")
    test = origins(result.bounds, "test", s.lookback, s.horizon)
    keep = test >= bundle.spec.lookback
    if not keep.any():
        return Comparison(None, metrics.mae(actual, challenger),
                          "not comparable: the current model's lookback exceeds the data")
    champ = _champion_forecasts(bundle, result, test[keep])
    return Comparison(metrics.mae(actual[keep], champ),
                      metrics.mae(actual[keep], challenger[keep]))
