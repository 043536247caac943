"""Theta's share of what a bundle serves (``combine``, chosen at training: ``ensemble``):
the weight the bundle records, and Theta's forecast after each series' latest row, which
predict blends with the network's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from forecast_cli.core.theta import served_share, theta_forecast
from forecast_cli.data.frame import Frame
from forecast_cli.model.bundle import Bundle
from forecast_cli.pipeline import bundle_series


def weight(settings: Mapping[str, Any]) -> float:
    """Theta's weight in a bundle's served forecast (``served_share``)."""
    return served_share(settings)[0]


def latest(bundle: Bundle, frame: Frame, kept: list[str]) -> np.ndarray:
    """Theta's forecast of the horizon after the last row of each kept series, fitted on all
    its finite rows of ``frame``, original units. → (S, H, k)."""
    spec, season = bundle.spec, int(bundle.schema.season or 1)
    ids, edges = bundle_series.frame_ids(frame), frame.bounds()
    cols = list(spec.target_index)
    always = served_share(bundle.settings)[1]
    out = np.empty((len(kept), spec.horizon, len(cols)))
    for j, sid in enumerate(kept):
        i = ids.index(sid)
        rows = frame.values[int(edges[i]): int(edges[i + 1]), cols]
        for t in range(len(cols)):
            y = rows[:, t][np.isfinite(rows[:, t])]
            out[j, :, t] = theta_forecast(y, spec.horizon, season, always) if len(y) else np.nan
    return out
