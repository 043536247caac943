"""The Theta method (Assimakopoulos & Nikolopoulos 2000), the M3 competition's winner, in the
form of Hyndman & Billah (2003) that R's ``forecast::thetaf`` runs: simple exponential
smoothing of the deseasonalised series plus half the slope of its linear trend.

- Seasonality: Theta's 90 % autocorrelation test at lag ``m`` (``seasonality.seasonal``, two
  seasons at least), or (``always``) two seasons; a seasonal series is divided by the
  classical multiplicative decomposition's indices (centred average of one season; the mean
  ratio at each phase, normalised to mean 1), or, with a value ≤ 0, has the additive indices
  subtracted.
- SES: α (on a grid, ``ALPHAS``) and the initial level minimise the in-sample one-step squared
  error — a grid and a closed form, not an optimiser, so the same input gives the same
  forecast on every machine, and one vectorised pass scores every α at once.
- Forecast h (1…H): ``ℓ_n + (b/2)·(h − 1 + (1 − (1 − α)^n)/α)``, b the least-squares slope of
  the deseasonalised series over its row numbers; then reseasonalised.

Pure numpy: predict serves it without TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from forecast_cli.core.seasonality import centred_average, seasonal

ALPHAS = np.linspace(0.01, 1.0, 100)  # SES smoothing parameters tried, step 0.01
MIN_ROWS = 3  # fewer: the last value repeated (a slope and a level need more)
# Theta reads at most this many of the latest rows: a fit costs a Python step per row, and a
# long single series (ETTh1: 17,420 rows, ~5,200 windows a target) would take hours; SES
# forgets old rows anyway. Every M3 series is shorter, so its figures are unchanged.
MAX_ROWS = 400


def ses_fit(y: np.ndarray) -> tuple[float, float]:
    """SES on y (n,): the α of ``ALPHAS`` and initial level ℓ_0 of least squared one-step
    error, and the final level ℓ_n under them.

    The forecast of y_t is ``a_t + (1 − α)^t · ℓ_0``, with ``a_t`` the forecast from ℓ_0 = 0:
    linear in ℓ_0, so for each α the best ℓ_0 is a least-squares coefficient, exact, and one
    pass over y scores every α at once (as ETS(A,N,N) estimates both, R's ``ses``)."""
    a = np.zeros(len(ALPHAS))  # the forecast from ℓ_0 = 0
    c = np.ones(len(ALPHAS))  # its coefficient on ℓ_0: (1 − α)^t
    s_cc, s_cr, s_rr = np.zeros(len(ALPHAS)), np.zeros(len(ALPHAS)), np.zeros(len(ALPHAS))
    for v in y:
        r = v - a
        s_cc += c * c
        s_cr += c * r
        s_rr += r * r
        a = a + ALPHAS * r
        c = c * (1.0 - ALPHAS)
    l0 = s_cr / s_cc
    sse = s_rr - 2.0 * l0 * s_cr + l0 * l0 * s_cc
    best = int(np.argmin(sse))
    return float(ALPHAS[best]), float(a[best] + c[best] * l0[best])


def seasonal_factors(y: np.ndarray, m: int,
                     always: bool = False) -> tuple[np.ndarray, bool] | None:
    """Classical decomposition indices of y (n,) by phase ``t mod m``: (m,) and whether they
    multiply (y > 0 throughout: ratios, mean 1) or add (differences, mean 0); None when the
    series does not pass Theta's seasonality test (``always``: has fewer than two seasons)."""
    if not (len(y) >= 2 * m if always else seasonal(y, m, min_seasons=2)):
        return None
    trend = centred_average(y, m)
    multiplicative = bool(np.all(y > 0))
    detrended = y / trend if multiplicative else y - trend
    phase = np.arange(len(y)) % m
    ok = np.isfinite(detrended)
    idx = (np.bincount(phase[ok], weights=detrended[ok], minlength=m)
           / np.maximum(np.bincount(phase[ok], minlength=m), 1))
    return (idx / idx.mean(), True) if multiplicative else (idx - idx.mean(), False)


def theta_forecast(y: np.ndarray, horizon: int, m: int, always: bool = False) -> np.ndarray:
    """Theta's forecast of the ``horizon`` steps after y (n,), finite values. → (horizon,).
    ``always``: deseasonalise wherever two seasons exist, not only where the test passes.

    Step h after row n − 1 has phase ``(n − 1 + h) mod m`` (phase 0 is the first row read:
    of the last ``MAX_ROWS``)."""
    y = np.asarray(y, np.float64)[-MAX_ROWS:]  # phases count from its first row kept
    n = len(y)
    if n < MIN_ROWS:
        return np.full(horizon, float(y[-1]))
    factors = seasonal_factors(y, m, always) if m >= 2 else None
    phase = np.arange(n) % max(m, 1)
    ahead = (n - 1 + np.arange(1, horizon + 1)) % max(m, 1)
    if factors is None:
        des = y
    else:
        idx, mult = factors
        des = y / idx[phase] if mult else y - idx[phase]
    alpha, level = ses_fit(des)
    t = np.arange(n, dtype=np.float64)
    slope = float(np.polyfit(t, des, 1)[0])
    steps = np.arange(horizon, dtype=np.float64)
    f = level + 0.5 * slope * (steps + (1.0 - (1.0 - alpha) ** n) / alpha)
    if factors is None:
        return np.asarray(f)
    idx, mult = factors
    return np.asarray(f * idx[ahead] if mult else f + idx[ahead])


def served_share(settings: Mapping[str, Any]) -> tuple[float, bool]:
    """A bundle's settings → Theta's weight in the served forecast (0: the network alone,
    also for a bundle older than the blend) and whether it deseasonalises always."""
    return float(settings.get("theta_weight") or 0.0), bool(settings.get("theta_always"))


def window_forecasts(values: np.ndarray, origins: np.ndarray, firsts: np.ndarray,
                     horizon: int, m: int, always: bool = False) -> np.ndarray:
    """Theta's forecasts of the windows at ``origins`` (m,), each from its series' rows
    ``firsts`` … origin − 1 (finite ones). values (n, k) original units → (m, horizon, k)."""
    out = np.empty((len(origins), horizon, values.shape[1]))
    for w, (first, origin) in enumerate(zip(firsts, origins, strict=True)):
        for j in range(values.shape[1]):
            rows = values[int(first):int(origin), j]
            rows = rows[np.isfinite(rows)]
            out[w, :, j] = theta_forecast(rows, horizon, m, always) if len(rows) else np.nan
    return out


@dataclass(frozen=True)
class ThetaBlend:
    """The served forecast as ``(1 − weight) · network + weight · Theta``, in original units.

    ``values`` (n, k): the targets as read; ``starts`` (S,): each series' first row, which
    Theta reads from. A window whose Theta is not finite keeps the network's forecast.
    Theta's forecasts are kept by window, since training scores the same windows several
    times (the choice, the calibration, the verdict)."""

    values: np.ndarray
    starts: np.ndarray
    season: int
    weight: float = 0.5
    always: bool = False  # deseasonalise wherever two seasons exist (``theta_forecast``)
    _memo: dict[tuple[bytes, bytes, int], np.ndarray] = field(
        default_factory=dict, compare=False, repr=False)

    def forecasts(self, origins: np.ndarray, which: np.ndarray, horizon: int) -> np.ndarray:
        """Theta's forecast of each window (origins, which: (m,)). → (m, horizon, k)."""
        key = (np.asarray(origins, np.int64).tobytes(), np.asarray(which, np.int64).tobytes(),
               horizon)
        if key not in self._memo:
            self._memo[key] = window_forecasts(self.values, origins,
                                               self.starts[np.asarray(which, np.int64)],
                                               horizon, self.season, self.always)
        return self._memo[key]

    def mix(self, network: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """``mix`` at this blend's weight."""
        return mix(network, theta, self.weight)


def mix(network: np.ndarray, theta: np.ndarray, weight: float) -> np.ndarray:
    """``(1 − weight) · network + weight · theta``, same shapes, original units; the network's
    value wherever that is not finite."""
    mixed = (1.0 - weight) * network + weight * theta
    return np.asarray(np.where(np.isfinite(mixed), mixed, network))
