"""Per-series target transforms (core.transform, core.seasonality): numbers derived by hand.

In-process numpy only: a level times seasonal indices is flattened and restored exactly, the
power and its inverse are each other's inverse, Guerrero's λ is the one a series is built
with, Theta's test tells a sine from white noise, a non-positive series is left alone, the
phase of a row after n rows is n mod m, and "none" + "none" leaves the data as it is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast_cli.core import seasonality
from forecast_cli.core import transform as tf
from forecast_cli.data.frequency import steps_between
from forecast_cli.io.plaincsv import steps_between as plain_steps
from forecast_cli.pipeline import transforming
from forecast_cli.settings import Settings

M = 12
INDICES = np.array([0.8, 0.9, 1.0, 1.2, 1.3, 1.1, 1.0, 0.9, 0.85, 0.95, 1.05, 0.95])


def multiplicative(n: int, level: float = 50.0, start_phase: int = 0) -> np.ndarray:
    """level × INDICES[phase]: (n, 1), its first row at ``start_phase``."""
    return (level * INDICES[(np.arange(n) + start_phase) % M])[:, None]


def _one(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Series 0 for each of n rows, and their phases (row 0 at phase 0)."""
    return np.zeros(n, np.int64), np.arange(n) % M


def test_a_level_times_seasonal_indices_is_flattened_and_restored_exactly() -> None:
    x = multiplicative(60)
    t = tf.fit([x], "log", "always", M)
    which, phase = _one(x, 60)
    flat = t.forward(x, which, phase)  # which, phase: (n,), one per row
    # log(50·s) − (log s − mean log s) = log 50 + mean log s, the same in every row
    assert flat == pytest.approx(np.full((60, 1), np.log(50) + np.log(INDICES).mean()),
                                 abs=1e-12)
    assert t.inverse(flat, which, phase) == pytest.approx(x, rel=1e-12)
    assert np.exp(t.indices[0, :, 0]) == pytest.approx(INDICES / np.exp(np.log(INDICES)
                                                                       .mean()), rel=1e-12)


def test_log_and_boxcox_are_inverted_by_their_inverse() -> None:
    x = np.linspace(0.5, 300.0, 50)
    for lam in (0.0, 0.3, 1.0):
        assert tf.inv_boxcox(tf.boxcox(x, np.full(50, lam)), np.full(50, lam)) == \
            pytest.approx(x, rel=1e-12)
    assert tf.boxcox(x, np.zeros(50)) == pytest.approx(np.log(x))


@pytest.mark.parametrize("lam", [0.0, 0.5, 1.0])
def test_guerrero_finds_the_power_a_series_is_built_with(lam: float) -> None:
    # subseries of one season whose sd is exactly ∝ mean^(1 − λ): sd/mean^(1−λ) constant
    means = np.linspace(10.0, 200.0, 8)
    shape = np.array([-1.0, -1.0, 1.0, 1.0])
    x = np.concatenate([mu + 0.1 * mu ** (1.0 - lam) * shape for mu in means])
    assert tf.guerrero(x, 4) == pytest.approx(lam, abs=1e-9)


def test_theta_test_finds_a_sine_and_not_white_noise() -> None:
    t = np.arange(5 * M)
    assert seasonality.seasonal(np.sin(2 * np.pi * t / M), M)
    noise = np.random.default_rng(3).standard_normal(10 * M)
    assert not seasonality.seasonal(noise, M)
    assert not seasonality.seasonal(np.sin(2 * np.pi * t[:2 * M] / M), M)  # < 3 seasons


def test_a_series_with_a_non_positive_value_is_not_powered() -> None:
    x = multiplicative(48) - 45.0  # 0.8 × 50 − 45 < 0
    t = tf.fit([x], "log", "none", M)
    assert t.identity
    assert np.isnan(t.lam).all()
    t = tf.fit([x], "boxcox", "auto", M)  # still deseasonalised: additive, original units
    assert not t.powered.any()
    assert t.deseasonalized.all()


def test_the_inverse_stays_finite_far_outside_the_training_range() -> None:
    x = multiplicative(48)
    t = tf.fit([x], "log", "none", M)
    which, phase = np.zeros(3, np.int64), np.zeros(3, np.int64)
    out = t.inverse(np.array([[1e6], [-1e6], [np.log(60.0)]]), which, phase)
    assert out[:, 0] == pytest.approx([65.0 * tf.RANGE, 40.0 / tf.RANGE, 60.0])
    later = t.forward(np.array([[0.0], [-5.0]]), which[:2], phase[:2])  # log of ≤ 0 refused
    assert np.isfinite(later).all()


def test_the_phase_of_the_row_after_n_rows_is_n_mod_m() -> None:
    n = 29
    assert seasonality.phases(np.array([n, n + 1]), np.array(0), M).tolist() == [5, 6]
    # a series of global rows [100, 129) has its phase 0 at row 100
    assert seasonality.phases(np.array([100 + n]), np.array(100), M).tolist() == [n % M]
    anchor = pd.Timestamp("2010-03-01")
    last = anchor + pd.DateOffset(months=n - 1)  # the n-th row
    assert steps_between(anchor, last, "MS") + 1 == n
    assert steps_between(last, anchor, "MS") == -(n - 1)
    as64 = np.datetime64(anchor.isoformat(), "s"), np.datetime64(last.isoformat(), "s")
    assert plain_steps(*as64, "MS") == n - 1
    hours = pd.Timestamp("2021-01-01 05:00"), pd.Timestamp("2021-01-03 04:00")
    assert steps_between(*hours, "h") == plain_steps(
        *(np.datetime64(h.isoformat(), "s") for h in hours), "h") == 47


def test_the_record_round_trips_and_malformed_ones_are_refused() -> None:
    t = tf.fit([multiplicative(48), multiplicative(48) - 45.0], "log", "always", M)
    record = tf.to_json(t, ("a", "b"), ["2010-01-01T00:00:00", "2011-01-01T00:00:00"])
    back, anchors = tf.from_json(record, ["b", "a", "new"], 1)
    assert anchors == ["2011-01-01T00:00:00", "2010-01-01T00:00:00", None]
    for got, want in ((back.lam, t.lam[[1, 0]]), (back.indices[:2], t.indices[[1, 0]])):
        np.testing.assert_array_equal(got[:2], want)
    assert np.isnan(back.lam[2]).all()
    assert not back.indices[2].any()
    bad = {**record, "series": {"a": {**record["series"]["a"], "floor": [-1.0]}}}
    with pytest.raises(ValueError, match="floor"):
        tf.from_json(bad, ["a"], 1)


def test_none_and_none_feed_the_data_itself() -> None:
    values = multiplicative(48)
    spans, fits = np.array([[0, 48]]), [slice(0, 40)]  # 40 training rows: > 3 seasons
    none = Settings(target=("y",), season=M, transform="none", deseasonalize="none")
    feed = transforming.feed_for(values, spans, fits, none, None)
    assert feed.values is values
    assert feed.transforms is None
    chosen = Settings(target=("y",), season=M, transform="log", deseasonalize="auto")
    feed = transforming.feed_for(values, spans, fits, chosen, None)
    assert feed.transforms is not None
    assert feed.bases is not None
    assert feed.values[:, 0] == pytest.approx(feed.values[0, 0], abs=1e-12)  # flattened
    # the scaler scales the transformed rows; its range stays the original one
    assert feed.scalers.scalers[0].data_max[0] == pytest.approx(65.0)
