"""The Theta method (core.theta) on series whose forecast follows from its definition: a line
(SES at α = 1 plus half the slope), a constant, a pure multiplicative season; the closed-form
initial level against a brute-force search; the blend's arithmetic and its guard."""

from __future__ import annotations

import numpy as np
import pytest

from forecast_cli.core.theta import (
    ALPHAS,
    MAX_ROWS,
    ThetaBlend,
    mix,
    seasonal_factors,
    ses_fit,
    theta_forecast,
    window_forecasts,
)


def test_a_line_gets_its_last_value_plus_half_its_slope_per_step() -> None:
    # SES of a line fits best at α = 1 (each error is the slope; any smaller α lags more),
    # so ℓ_n = y_n and the drift term is (b/2)·(h − 1 + 1) = b·h/2
    y = 5.0 + 2.0 * np.arange(40)
    f = theta_forecast(y, 6, 1)
    np.testing.assert_allclose(f, y[-1] + 2.0 * np.arange(1, 7) / 2, rtol=1e-12)


def test_a_constant_is_forecast_as_itself_seasonal_or_not() -> None:
    for m in (1, 12):
        np.testing.assert_allclose(theta_forecast(np.full(50, 7.5), 18, m), 7.5)


def test_a_pure_multiplicative_season_is_repeated_from_its_phase() -> None:
    m, pattern = 4, np.array([0.5, 1.5, 1.2, 0.8])  # mean 1
    n = 4 * 10 + 1  # the last row has phase 0, so step h has phase h mod 4
    y = 10.0 * pattern[np.arange(n) % m]
    idx, multiplies = seasonal_factors(y, m)  # type: ignore[misc]
    assert multiplies
    np.testing.assert_allclose(idx, pattern, rtol=1e-12)
    np.testing.assert_allclose(theta_forecast(y, 8, m), 10.0 * pattern[np.arange(1, 9) % m],
                               rtol=1e-9)


def test_a_season_with_values_at_or_below_zero_is_additive() -> None:
    m, pattern = 4, np.array([-2.0, 3.0, 1.0, -2.0])  # sum 0
    y = pattern[np.arange(41) % m]
    idx, multiplies = seasonal_factors(y, m)  # type: ignore[misc]
    assert not multiplies
    np.testing.assert_allclose(idx, pattern, atol=1e-12)
    np.testing.assert_allclose(theta_forecast(y, 8, m), pattern[np.arange(1, 9) % m],
                               atol=1e-9)


def test_noise_is_not_seasonal() -> None:
    y = np.random.default_rng(0).normal(100.0, 1.0, 120)
    assert seasonal_factors(y, 12) is None


def test_ses_initial_level_is_the_least_squares_one() -> None:
    y = 50.0 + np.cumsum(np.random.default_rng(3).normal(0.0, 1.0, 60))
    alpha, last = ses_fit(y)

    def sse_and_last(a: float, l0: float) -> tuple[float, float]:
        level, sse = l0, 0.0
        for v in y:
            sse += (v - level) ** 2
            level += a * (v - level)
        return sse, level

    grid = np.linspace(y.min() - 5, y.max() + 5, 801)
    best = min(sse_and_last(float(a), float(l0)) for a in ALPHAS[::9] for l0 in grid[::8])
    ours = min(sse_and_last(alpha, float(l0)) for l0 in grid)  # our α, the grid's best ℓ_0
    closed = sse_and_last(alpha, float(_closed_l0(y, alpha)))
    assert closed[0] <= best[0] + 1e-9  # no (α, ℓ_0) of the coarse grid does better
    assert closed[0] <= ours[0] + 1e-9  # and the closed form beats every ℓ_0 of a fine grid
    assert last == pytest.approx(closed[1], rel=1e-12)


def _closed_l0(y: np.ndarray, alpha: float) -> float:
    """The least-squares ℓ_0 for ``alpha``, by a linear regression written out."""
    base, coef = np.zeros(len(y)), np.zeros(len(y))  # ŷ_t = base_t + coef_t · ℓ_0
    level0, level1 = 0.0, 1.0  # the level from ℓ_0 = 0, and its derivative in ℓ_0
    for t, v in enumerate(y):
        base[t], coef[t] = level0, level1
        level0 += alpha * (v - level0)
        level1 *= 1.0 - alpha
    return float(coef @ (y - base) / (coef @ coef))


def test_window_forecasts_fit_each_window_on_its_own_rows() -> None:
    y = np.column_stack([10.0 + np.sin(np.arange(60)), 3.0 + 0.5 * np.arange(60)])
    origins, firsts = np.array([30, 45, 60]), np.array([0, 10, 0])
    out = window_forecasts(y, origins, firsts, 5, 6)
    assert out.shape == (3, 5, 2)
    for w, (o, a) in enumerate(zip(origins, firsts, strict=True)):
        for j in range(2):
            np.testing.assert_array_equal(out[w, :, j], theta_forecast(y[a:o, j], 5, 6))


def test_the_blend_is_the_weighted_mean_and_keeps_the_network_where_theta_fails() -> None:
    net, theta = np.array([2.0, 4.0, 6.0]), np.array([4.0, np.nan, 0.0])
    np.testing.assert_allclose(mix(net, theta, 0.5), [3.0, 4.0, 3.0])
    np.testing.assert_allclose(mix(net, theta, 0.25), [2.5, 4.0, 4.5])
    values = np.arange(20.0)[:, None]
    blend = ThetaBlend(values, np.array([0]), 1)
    first = blend.forecasts(np.array([10]), np.array([0]), 3)
    assert blend.forecasts(np.array([10]), np.array([0]), 3) is first  # kept, not refitted
    np.testing.assert_allclose(first[0, :, 0], 9.0 + np.arange(1, 4) / 2)  # the line's rule


def test_always_deseasonalises_wherever_two_seasons_exist() -> None:
    y = np.random.default_rng(0).normal(100.0, 1.0, 120)  # noise: the test finds no season
    assert seasonal_factors(y, 12) is None
    factors = seasonal_factors(y, 12, always=True)
    assert factors is not None
    assert factors[0].shape == (12,)
    assert seasonal_factors(y[:23], 12, always=True) is None  # fewer than two seasons
    assert not np.allclose(theta_forecast(y, 12, 12, always=True), theta_forecast(y, 12, 12))


def test_a_long_history_is_read_from_its_last_max_rows() -> None:
    t = np.arange(MAX_ROWS * 3 + 5)
    y = 50.0 + 0.01 * t + np.sin(2 * np.pi * t / 24) + np.random.default_rng(1).normal(0, .1,
                                                                                      len(t))
    np.testing.assert_array_equal(theta_forecast(y, 48, 24),
                                  theta_forecast(y[-MAX_ROWS:], 48, 24))
