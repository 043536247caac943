"""Split conformal intervals per series for a many-series (``--id-col``) model.

Calibration uses the absolute validation errors of every series in its own original units,
shape (m, horizon, k), with ``which`` (m,) naming the series of each window. For each series,
level, step and target:

- ``own``: the series has enough validation windows for the level (rank
  ``⌈(m_i + 1)·level⌉ ≤ m_i``): the half-width is that rank's error among its own ``m_i``
  windows, exactly as ``intervals.conformal_quantile`` does for one series.
- ``pooled``: too few windows of its own. Every series' errors are divided by that series'
  scale (the ``scale`` of its training scaler: the training standard deviation with the
  standard scaler, the training range with minmax); the conformal quantile of that pool of all
  ``m`` windows, multiplied by this series' scale, is the half-width. Infinite only when the
  whole pool is too small for the level.

Which method served each level is recorded per series (``calibration``), in intervals.json and
in metrics.json. As for one series (main's ``intervals.monotone_in_horizon``), each series'
half-widths are then made non-decreasing along the horizon by a running maximum over steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from forecast_cli.core.intervals import (
    check_levels,
    conformal_quantile,
    conformal_rank,
    interval_scores,
    level_label,
    monotone_in_horizon,
    widths_from_json,
    widths_to_json,
)

OWN = "own"
POOLED = "pooled"
METHOD = "split-conformal per series"


@dataclass(frozen=True)
class SeriesCalibration:
    """One series' half-widths (n_levels, horizon, k), original units, and how they were got."""

    half_widths: np.ndarray
    methods: tuple[str, ...]  # OWN or POOLED, one per level
    n_calibration: int  # the series' own validation windows
    scale: np.ndarray  # (k,) the series' scale used by the pooled quantile


@dataclass(frozen=True)
class SeriesIntervals:
    """Calibrated half-widths of every series of a many-series model."""

    levels: tuple[float, ...]
    series: dict[str, SeriesCalibration]
    n_pooled: int  # validation windows of all series together

    def widths_of(self, ids: list[str]) -> np.ndarray:
        """Half-widths of the series ``ids`` (one per window) → (m, n_levels, horizon, k)."""
        return np.stack([self.series[sid].half_widths for sid in ids])

    def to_json(self) -> dict[str, Any]:
        """JSON-ready; an infinite half-width is written as ``null``."""
        return {"method": METHOD, "levels": list(self.levels), "n_pooled": self.n_pooled,
                "series": {sid: {"calibration": dict(zip(map(level_label, self.levels),
                                                          c.methods, strict=True)),
                                 "n_calibration": c.n_calibration,
                                 "scale": c.scale.tolist(),
                                 "half_widths": widths_to_json(c.half_widths)}
                           for sid, c in self.series.items()}}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> SeriesIntervals:
        """Rebuild from ``to_json`` output; raises ValueError/KeyError/TypeError if malformed."""
        if raw.get("method") != METHOD:
            raise ValueError(f"intervals method {raw.get('method')!r} is not {METHOD!r}")
        levels = tuple(float(v) for v in raw["levels"])
        check_levels(levels)
        series = {str(sid): _series_from_json(c, levels) for sid, c in dict(raw["series"]).items()}
        return cls(levels, series, int(raw["n_pooled"]))


def _series_from_json(raw: dict[str, Any], levels: tuple[float, ...]) -> SeriesCalibration:
    widths = widths_from_json(raw["half_widths"], len(levels))
    calibration = dict(raw["calibration"])
    methods = tuple(str(calibration[level_label(lv)]) for lv in levels)
    if any(m not in (OWN, POOLED) for m in methods):
        raise ValueError(f"calibration must be {OWN!r} or {POOLED!r}")
    return SeriesCalibration(widths, methods, int(raw["n_calibration"]),
                             np.asarray(raw["scale"], dtype=np.float64))


def calibrate_series(errors: np.ndarray, which: np.ndarray, ids: tuple[str, ...],
                     scales: np.ndarray, levels: tuple[float, ...]) -> SeriesIntervals:
    """Per-series half-widths from absolute validation errors.

    errors: (m, horizon, k) ``|actual − forecast|`` in original units; which: (m,) series
    index of each window into ``ids``; scales: (S, k) each series' scale (> 0).
    """
    check_levels(levels)
    pool = errors / scales[which][:, None, :]  # (m, H, k) scale-free
    pooled = {lv: conformal_quantile(pool, lv) for lv in levels}  # level → (H, k)
    out: dict[str, SeriesCalibration] = {}
    for i, sid in enumerate(ids):
        own = errors[which == i]
        widths, methods = [], []
        for lv in levels:
            if len(own) and conformal_rank(len(own), lv) <= len(own):
                widths.append(conformal_quantile(own, lv))
                methods.append(OWN)
            else:
                widths.append(pooled[lv] * scales[i])
                methods.append(POOLED)
        shape = (len(levels), *errors.shape[1:])
        stacked = monotone_in_horizon(np.stack(widths)) if widths else np.empty(shape)
        out[sid] = SeriesCalibration(stacked, tuple(methods), len(own),
                                     np.asarray(scales[i], float))
    return SeriesIntervals(tuple(levels), out, len(errors))


def unbounded_warnings(si: SeriesIntervals) -> list[str]:
    """One warning per level whose half-widths are infinite for some series (too few
    calibration windows, even pooled), naming how many windows that level needs."""
    out = []
    for i, lv in enumerate(si.levels):
        hit = [sid for sid, c in si.series.items() if not np.isfinite(c.half_widths[i]).all()]
        if not hit:
            continue
        need = next(m for m in range(1, 100_000) if conformal_rank(m, lv) <= m)
        who = f" for {len(hit)} of {len(si.series)} series" if len(si.series) > 1 else ""
        out.append(f"the {level_label(lv)} % intervals are unbounded (written as -inf/inf)"
                   f"{who}: {si.n_pooled} validation windows calibrate them"
                   f" and a {level_label(lv)} % interval needs at least {need}. Give more rows, "
                   "a larger --val-frac, or a lower --level.")
    return out


def window_coverage(widths: np.ndarray, levels: tuple[float, ...], actual: np.ndarray,
                    forecast: np.ndarray) -> dict[str, dict[str, float]]:
    """Coverage % and mean width (upper − lower) per level of ``forecast ± widths``.

    widths (m, L, H, k) half-widths per window; actual, forecast (m, H, k). For the windows of
    one series this is ``intervals.coverage`` of that series' intervals, number for number.
    """
    return {level_label(level): interval_scores(actual, forecast - widths[:, j],
                                                forecast + widths[:, j])
            for j, level in enumerate(levels)}


def series_coverage(si: SeriesIntervals, actual: np.ndarray, forecast: np.ndarray,
                    which: np.ndarray, ids: tuple[str, ...],
                    ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, Any]]]:
    """Overall and per-series test coverage (%) and mean width per level.

    actual, forecast: (m, horizon, k) in original units; which: (m,) index into ``ids``.
    Per series: ``calibration`` (method per level), ``n_calibration`` and ``test``.
    """
    widths = si.widths_of([ids[i] for i in which])  # (m, L, H, k)
    overall = window_coverage(widths, si.levels, actual, forecast)
    per: dict[str, dict[str, Any]] = {}
    for i, sid in enumerate(ids):
        c, rows = si.series[sid], which == i
        per[sid] = {"calibration": dict(zip(map(level_label, si.levels), c.methods,
                                            strict=True)),
                    "n_calibration": c.n_calibration,
                    "test": window_coverage(widths[rows], si.levels, actual[rows], forecast[rows])
                    if rows.any() else {}}  # a short series without a test window
    return overall, per


def bounds_columns(si: SeriesIntervals, forecast: np.ndarray,
                   ids: list[str]) -> dict[str, np.ndarray]:
    """lower_80, upper_80, … around forecasts (m, H, k) of windows of series ``ids`` (m)."""
    widths = si.widths_of(ids)
    out: dict[str, np.ndarray] = {}
    for j, level in enumerate(si.levels):
        out[f"lower_{level_label(level)}"] = forecast - widths[:, j]
        out[f"upper_{level_label(level)}"] = forecast + widths[:, j]
    return out
