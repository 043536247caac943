"""Theta's share of what a bundle serves (``combine``, chosen at training: ``ensemble``):
the weight the bundle records, and Theta's forecast after each series' latest row, which
predict blends with the network's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from forecast_cli.core.theta import theta_forecast
from forecast_cli.data.frame import Frame
from forecast_cli.model.bundle import Bundle
from forecast_cli.pipeline import bundle_series


def weight(settings: Mapping[str, Any]) -> float:
    """Theta's weight in a bundle's served forecast: 0 (the network alone) for a bundle
    trained with ``combine none``, one where the network won, or one older than the blend."""
    return float(settings.get("theta_weight") or 0.0)


def always(settings: Mapping[str, Any]) -> bool:
    """Whether the served Theta deseasonalises every series of two seasons (``theta_always``)
    rather than those its seasonality test finds seasonal."""
    return bool(settings.get("theta_always"))


def latest(bundle: Bundle, frame: Frame, kept: list[str]) -> np.ndarray:
    """Theta's forecast of the horizon after the last row of each kept series, fitted on all
    its finite rows of ``frame``, original units. → (S, H, k)."""
    spec, season = bundle.spec, int(bundle.schema.season or 1)
    ids, edges = bundle_series.frame_ids(frame), frame.bounds()
    cols = list(spec.target_index)
    out = np.empty((len(kept), spec.horizon, len(cols)))
    for j, sid in enumerate(kept):
        i = ids.index(sid)
        rows = frame.values[int(edges[i]): int(edges[i + 1]), cols]
        for t in range(len(cols)):
            y = rows[:, t][np.isfinite(rows[:, t])]
            out[j, :, t] = (theta_forecast(y, spec.horizon, season, always(bundle.settings))
                            if len(y) else np.nan)
    return out
