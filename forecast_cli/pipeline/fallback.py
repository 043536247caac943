"""``--fallback seasonal-naive``: the forecast a bundle serves when its network lost to
seasonal naive on validation (``training.serving``), through the same predict and batch
surfaces, in the same table (intervals: the network's calibrated half-widths around it)."""

from __future__ import annotations

import numpy as np

from forecast_cli.core.baselines import naive, seasonal_naive
from forecast_cli.data.frame import Frame
from forecast_cli.model.bundle import Bundle
from forecast_cli.pipeline import bundle_series

SEASONAL_NAIVE = "seasonal-naive"


def serves_baseline(bundle: Bundle) -> bool:
    """The bundle was trained with ``--fallback seasonal-naive`` and its network lost."""
    return bundle.settings.get("serving") == SEASONAL_NAIVE


def latest_seasonal_naive(rows: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Seasonal naive after the last row: step h repeats row n − m + (h mod m). rows (n, k) →
    (horizon, k); a series shorter than one season repeats its last row (naive)."""
    origin = np.array([len(rows)])  # the one origin: right after the last row
    if len(rows) < season or season < 2:
        return np.asarray(naive(rows, origin, horizon)[0])
    return np.asarray(seasonal_naive(rows, origin, horizon, season)[0])


def scaled_baseline(bundle: Bundle, frame: Frame, kept: list[str]) -> np.ndarray:
    """Seasonal naive of each kept series, scaled as the network's output is (each series'
    target scaler, after its target transform), so ``forecast_table`` turns it back into the
    same numbers. (S, H, k)."""
    from forecast_cli.pipeline import transforming

    spec, season = bundle.spec, int(bundle.schema.season or 1)
    scalers, ids = bundle_series.scalers(bundle), bundle_series.frame_ids(frame)
    served = transforming.served(bundle, ids)
    edges = frame.bounds()
    cols = list(spec.target_index)
    out = []
    for sid in kept:
        i = ids.index(sid)
        rows = frame.values[int(edges[i]): int(edges[i + 1]), cols]
        rows = rows[np.isfinite(rows).all(axis=1)]
        f = latest_seasonal_naive(rows, spec.horizon, season)
        if served is not None:
            f = served.forward(i, f, served.phase_at(i, frame.timestamps[int(edges[i + 1]) - 1])
                               + 1)
        out.append(scalers[sid].select(cols).transform(f))
    return np.stack(out)
