"""Prediction intervals by split conformal prediction, per horizon step and target column.

Calibration: the absolute errors ``|actual − forecast|`` of the validation windows, in original
units, shape (m, horizon, k). For a level of ``100·(1 − α)`` % the half-width at step ``h`` and
column ``j`` is the ``⌈(m + 1)(1 − α)⌉``-th smallest of the ``m`` errors at (h, j): the
finite-sample corrected quantile ``⌈(m + 1)(1 − α)⌉ / m`` of split conformal prediction. When
that rank exceeds ``m`` (too few calibration windows for the level) the half-width is infinite:
no finite interval is honest. Intervals are ``forecast ± half-width``.

Half-widths are then made non-decreasing along the horizon (a running maximum over steps): a
forecast further ahead is never more certain than a nearer one from the same origin, while the
per-step quantiles of a few dozen overlapping windows wobble (on co2 the 80 % width at step 3 came
out below step 2's). Taking the maximum only widens intervals, so it cannot lower coverage.

Validation windows overlap (stride 1) and were used for early stopping, so the guarantee is
approximate; the test-period coverage reported by ``forecast train`` is the check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_LEVELS: tuple[float, ...] = (80.0, 95.0)


def conformal_rank(m: int, level: float) -> int:
    """1-based rank ``⌈(m + 1)·level/100⌉`` of the calibration error used as the half-width."""
    # Round first so that e.g. (9 + 1)·0.8 = 8.000000000000002 does not become 9.
    return math.ceil(round((m + 1) * level / 100.0, 9))


def conformal_quantile(abs_errors: np.ndarray, level: float) -> np.ndarray:
    """Half-widths for one level. abs_errors (m, …) → (…); ``inf`` where m is too small."""
    m = abs_errors.shape[0]
    rank = conformal_rank(m, level)
    if m == 0 or rank > m:
        return np.full(abs_errors.shape[1:], np.inf)
    return np.asarray(np.sort(abs_errors, axis=0)[rank - 1], dtype=np.float64)


@dataclass(frozen=True)
class Intervals:
    """Calibrated half-widths. ``half_widths``: (n_levels, horizon, k), original units."""

    levels: tuple[float, ...]
    half_widths: np.ndarray
    n_calibration: int

    def bounds(self, forecast: np.ndarray) -> dict[float, tuple[np.ndarray, np.ndarray]]:
        """forecast (…, horizon, k) → level → (lower, upper), each of the forecast's shape."""
        return {level: (forecast - w, forecast + w)
                for level, w in zip(self.levels, self.half_widths, strict=True)}

    def to_json(self) -> dict[str, Any]:
        """JSON-ready; an infinite half-width is written as ``null``."""
        return {"method": "split-conformal", "levels": list(self.levels),
                "n_calibration": self.n_calibration,
                "half_widths": widths_to_json(self.half_widths)}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Intervals:
        """Rebuild from ``to_json`` output; raises ValueError/KeyError/TypeError if malformed."""
        levels = tuple(float(v) for v in raw["levels"])
        check_levels(levels)
        return cls(levels, widths_from_json(raw["half_widths"], len(levels)),
                   int(raw["n_calibration"]))


def widths_to_json(widths: np.ndarray) -> list[Any]:
    """(levels, horizon, k) half-widths as nested lists; an infinite one is ``null``."""
    return [[[v if math.isfinite(v) else None for v in row] for row in lvl]
            for lvl in widths.tolist()]


def widths_from_json(raw: Any, n_levels: int) -> np.ndarray:
    """``widths_to_json`` output → (levels, horizon, k); ValueError if malformed."""
    widths = np.asarray([[[np.inf if v is None else float(v) for v in row] for row in lvl]
                         for lvl in raw], dtype=np.float64)
    if widths.ndim != 3 or widths.shape[0] != n_levels:
        raise ValueError("half_widths must have shape (levels, horizon, targets)")
    if (widths < 0).any() or np.isnan(widths).any():
        raise ValueError("half_widths must be ≥ 0")
    return widths


def check_levels(levels: tuple[float, ...]) -> None:
    """Every level must lie strictly between 0 and 100 %."""
    for level in levels:
        if not 0.0 < level < 100.0:
            raise ValueError(f"interval level must be between 0 and 100 (exclusive); "
                             f"got {level!r}")


def calibrate(actual: np.ndarray, forecast: np.ndarray, levels: tuple[float, ...]) -> Intervals:
    """Half-widths from calibration windows. actual, forecast: (m, horizon, k)."""
    check_levels(levels)
    errors = np.abs(actual - forecast)
    widths = np.stack([conformal_quantile(errors, lv) for lv in levels]) if levels else \
        np.empty((0, *actual.shape[1:]))
    return Intervals(tuple(levels), monotone_in_horizon(widths), int(actual.shape[0]))


def monotone_in_horizon(widths: np.ndarray) -> np.ndarray:
    """Running maximum over the horizon axis: (levels, horizon, k) → same shape."""
    return np.maximum.accumulate(widths, axis=1) if widths.size else widths


def coverage(intervals: Intervals, actual: np.ndarray,
             forecast: np.ndarray) -> dict[str, dict[str, float]]:
    """Empirical coverage (%) and mean width per level, on windows (m, horizon, k).

    Keys are level labels such as ``"80"``; width is upper − lower in original units. See
    ``interval_scores``.
    """
    return {level_label(level): interval_scores(actual, lower, upper)
            for level, (lower, upper) in intervals.bounds(forecast).items()}


def interval_scores(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> dict[str, float]:
    """Coverage % and mean width of the bounded intervals, and the % of points unbounded.

    actual, lower, upper: one shape. An unbounded interval (too few calibration windows for
    its level) holds every value without saying anything: counting it would report 100 %
    coverage of an interval no one can use, so coverage and width are over the bounded points
    only (NaN when there are none) and ``unbounded`` says how many were left out.
    """
    bounded = np.isfinite(upper - lower)
    inside = (actual >= lower) & (actual <= upper)
    n = int(bounded.sum())
    return {"coverage": float(100.0 * inside[bounded].mean()) if n else math.nan,
            "mean_width": float(np.mean((upper - lower)[bounded])) if n else math.nan,
            "unbounded": float(100.0 * (1.0 - n / bounded.size)) if bounded.size else 0.0}


def level_label(level: float) -> str:
    """80.0 → "80", 97.5 → "97.5": used in column names and JSON keys."""
    return f"{level:g}"
