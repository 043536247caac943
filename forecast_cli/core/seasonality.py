"""Seasonality of a series' training rows: the test that decides, the indices, the phases.

- ``seasonal``: the Theta method's test (Assimakopoulos & Nikolopoulos 2000, as the M4
  benchmarks run it): the autocorrelation at lag ``m`` is significant at 90 %,
  ``|r_m| > 1.645 · sqrt((1 + 2 Σ_{j<m} r_j²) / n)``, with at least ``MIN_SEASONS`` seasons.
- ``seasonal_indices``: classical decomposition: a centred moving average of one season (2×m
  for an even ``m``) is the trend; the mean of ``y − trend`` at each phase, centred to sum 0,
  is that phase's index. Additive here: applied to log values it is the classical
  multiplicative decomposition of the original ones.
- ``phases``: the phase of a row is its distance in steps from the row of phase 0 of its
  series (its first training row: the *anchor*), modulo ``m``. Train, backtest, evaluate and
  predict all go through it, so a forecast row gets the index its timestamp had in training.
"""

from __future__ import annotations

import numpy as np

MIN_SEASONS = 3  # "auto": the test needs this many seasons of training rows (M4's Theta)
MIN_SEASONS_ALWAYS = 2  # "always": a centred average of one season needs two
_Z90 = 1.645  # one-sided 90 % normal quantile (Theta's test)


def acf(y: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelations r_1 … r_max_lag of y (n,). → (max_lag,); 0 for a flat series."""
    d = np.asarray(y, np.float64) - np.mean(y)
    denom = float(d @ d)
    if denom <= 0.0:
        return np.zeros(max_lag)
    return np.asarray([float(d[lag:] @ d[:-lag]) / denom for lag in range(1, max_lag + 1)])


def seasonal(y: np.ndarray, m: int, min_seasons: int = MIN_SEASONS) -> bool:
    """Theta's 90 % autocorrelation test at lag ``m`` on y (n,), finite values.

    False for ``m < 2`` or fewer than ``min_seasons · m`` rows: too short to tell.
    """
    n = len(y)
    if m < 2 or n < min_seasons * m:
        return False
    r = acf(y, m)
    limit = _Z90 * np.sqrt((1.0 + 2.0 * float(np.sum(r[:-1] ** 2))) / n)
    return bool(abs(r[-1]) > limit)


def centred_average(y: np.ndarray, m: int) -> np.ndarray:
    """The centred moving average of one season over y (n,) → (n,), NaN where it does not
    reach: the first and last ``m // 2`` rows. An even ``m`` takes the 2×m average (weights
    1/2m at both ends), so every phase weighs the same."""
    n, half = len(y), m // 2
    out = np.full(n, np.nan)
    if n < m + (m % 2 == 0):
        return out
    odd = np.full(m, 1.0 / m)
    weights = odd if m % 2 else np.concatenate(([0.5], np.ones(m - 1), [0.5])) / m
    out[half:n - half] = np.convolve(y, weights, mode="valid")
    return out


def seasonal_indices(y: np.ndarray, m: int) -> np.ndarray:
    """Additive seasonal indices of y (n,) with phase ``t mod m`` for row t: (m,), sum 0.

    ``y − trend`` averaged at each phase over the rows where the centred average reaches;
    needs n ≥ 2m (then every phase has one such row at least).
    """
    if len(y) < MIN_SEASONS_ALWAYS * m:
        raise ValueError(f"seasonal indices need {MIN_SEASONS_ALWAYS * m} rows; got {len(y)}")
    detrended = np.asarray(y, np.float64) - centred_average(y, m)
    phase = np.arange(len(y)) % m
    ok = np.isfinite(detrended)
    sums = np.bincount(phase[ok], weights=detrended[ok], minlength=m)
    counts = np.bincount(phase[ok], minlength=m)
    idx = sums / np.maximum(counts, 1)
    return np.asarray(idx - idx.mean())


def phases(rows: np.ndarray, bases: np.ndarray, m: int) -> np.ndarray:
    """The phase of each global row: ``(rows − bases) mod m``; ``bases`` the global row of
    phase 0 of each row's series (broadcast with ``rows``). Same shape as ``rows``."""
    if m < 2:
        return np.zeros(np.shape(rows), np.int64)
    return np.asarray(np.mod(np.asarray(rows, np.int64) - np.asarray(bases, np.int64), m))
