"""Scalers fit on training rows only; metrics and baselines on hand-derivable series."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from forecast_cli.core import metrics
from forecast_cli.core.baselines import naive, seasonal_naive
from forecast_cli.core.evaluation import MODEL, NAIVE, SEASONAL, evaluate
from forecast_cli.core.scaling import Scaler, fit_scaler


@pytest.mark.parametrize("kind", ["standard", "minmax"])
def test_scaler_sees_only_the_rows_it_is_given(kind: str) -> None:
    train = np.arange(10, dtype=float).reshape(-1, 1)  # 0…9
    scaler = fit_scaler(kind, train)
    if kind == "standard":  # population std, as sklearn and the benchmark protocol use
        assert scaler.offset[0] == pytest.approx(4.5)
        assert scaler.scale[0] == pytest.approx(np.sqrt(np.mean((train - 4.5) ** 2)))
    else:
        np.testing.assert_allclose(scaler.transform(np.array([[0.0], [9.0]])), [[0.0], [1.0]])
    # A huge later value changes nothing: the scaler never saw it.
    assert scaler.transform(np.array([[1e6]]))[0, 0] > 1e4


finite = st.floats(-1e6, 1e6, allow_nan=False)


@given(arrays(np.float64, st.tuples(st.integers(2, 30), st.integers(1, 3)), elements=finite),
       st.sampled_from(["standard", "minmax"]))
def test_scaler_round_trips_and_serialises(x: np.ndarray, kind: str) -> None:
    scaler = fit_scaler(kind, x)
    np.testing.assert_allclose(scaler.inverse(scaler.transform(x)), x, rtol=1e-9, atol=1e-6)
    again = Scaler.from_json(scaler.to_json())
    np.testing.assert_array_equal(again.transform(x), scaler.transform(x))


def test_constant_column_gets_unit_scale() -> None:
    scaler = fit_scaler("standard", np.full((5, 1), 3.0))
    assert scaler.scale[0] == 1.0
    assert scaler.transform(np.array([[3.0]]))[0, 0] == 0.0


def test_scaler_json_is_checked() -> None:
    raw = fit_scaler("standard", np.arange(4.0).reshape(-1, 1)).to_json()
    with pytest.raises(ValueError, match="non-zero"):
        Scaler.from_json({**raw, "scale": [0.0]})
    with pytest.raises(ValueError, match="unknown scaler"):
        Scaler.from_json({**raw, "kind": "pickle"})


def test_naive_on_a_ramp_errs_by_the_step_number() -> None:
    y = np.arange(50, dtype=float).reshape(-1, 1)  # y_t = t
    t = np.array([10, 20, 30])
    f = naive(y, t, horizon=4)
    np.testing.assert_array_equal(f[:, :, 0], np.repeat([[9.0], [19.0], [29.0]], 4, axis=1))
    actual = y[t[:, None] + np.arange(4)]
    # Step s (1-based) is off by s: MAE = mean(1, 2, 3, 4) = 2.5; RMSE = sqrt(30/4).
    assert metrics.mae(actual, f) == 2.5
    assert metrics.rmse(actual, f) == pytest.approx(math.sqrt(7.5))
    # On a ramp the in-sample one-step naive error is 1, so MASE (m=1) equals MAE.
    assert metrics.mase(actual, f, metrics.mase_scale(y[:10], season=1)) == 2.5


def test_seasonal_naive_is_exact_on_a_pure_sine() -> None:
    m = 12
    y = np.sin(2 * np.pi * np.arange(140) / m).reshape(-1, 1)
    t = np.arange(m, 100)
    for horizon in (1, 5, 12, 30):  # also beyond one season
        f = seasonal_naive(y, t, horizon, m)
        np.testing.assert_allclose(f, y[t[:, None] + np.arange(horizon)], atol=1e-12)


def test_seasonal_naive_index_by_hand() -> None:
    y = np.arange(40, dtype=float).reshape(-1, 1)
    f = seasonal_naive(y, np.array([10]), horizon=7, season=3)
    # steps 0..6 → rows 10+s-3*(s//3+1): 7, 8, 9, 7, 8, 9, 7
    assert f[0, :, 0].tolist() == [7, 8, 9, 7, 8, 9, 7]
    with pytest.raises(ValueError, match="needs 3 rows"):
        seasonal_naive(y, np.array([2]), 2, 3)


def test_percentage_metrics_by_hand() -> None:
    a = np.array([[100.0], [200.0], [0.0]])
    f = np.array([[110.0], [180.0], [0.0]])
    assert metrics.mape(a, f) == pytest.approx(100 * (0.1 + 0.1) / 2)  # the zero is skipped
    assert metrics.smape(a, f) == pytest.approx(200 * (10 / 210 + 20 / 380 + 0) / 3)
    assert math.isnan(metrics.mape(np.zeros((2, 1)), np.ones((2, 1))))


def test_mase_multi_column_averages_scaled_errors_and_skips_constant_scale() -> None:
    a = np.zeros((2, 3, 2))
    f = np.ones((2, 3, 2)) * np.array([1.0, 4.0])
    assert metrics.mase(a, f, np.array([1.0, 2.0])) == pytest.approx((1 / 1 + 4 / 2) / 2)
    assert math.isnan(metrics.mase(a, f, np.array([1.0, 0.0])))


def test_evaluation_scores_every_method_on_identical_windows() -> None:
    y = np.arange(60, dtype=float).reshape(-1, 1)
    t = np.arange(30, 50)
    actual = y[t[:, None] + np.arange(3)]
    ev = evaluate(actual, {MODEL: actual.copy(), NAIVE: naive(y, t, 3),
                           SEASONAL: seasonal_naive(y, t, 3, 4)}, np.array([1.0]))
    assert ev.scores[MODEL]["mae"] == 0.0
    assert ev.scores[NAIVE]["mase"] == 2.0  # mean(1, 2, 3)
    assert ev.skill(NAIVE) == 1.0  # a perfect model has full skill
