"""Split conformal intervals on residual sets whose quantiles can be read off by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from forecast_cli.core.intervals import (
    Intervals,
    calibrate,
    conformal_quantile,
    conformal_rank,
    coverage,
    level_label,
)


@pytest.mark.parametrize(("m", "level", "rank"), [
    (9, 80.0, 8),     # ⌈10 · 0.8⌉ = 8 (no float drift to 9)
    (19, 80.0, 16),   # ⌈20 · 0.8⌉ = 16
    (19, 95.0, 19),   # ⌈20 · 0.95⌉ = 19
    (9, 95.0, 10),    # ⌈9.5⌉ = 10 > 9: no finite quantile
    (4, 50.0, 3),     # ⌈2.5⌉ = 3
])
def test_conformal_rank(m: int, level: float, rank: int) -> None:
    assert conformal_rank(m, level) == rank


def test_quantile_of_a_known_residual_set() -> None:
    # Errors 1..19 at step 1 and 2, 4, …, 38 at step 2 (shuffled: order must not matter).
    rng = np.random.default_rng(0)
    base = rng.permutation(np.arange(1.0, 20.0))
    errors = np.stack([base, 2 * base], axis=1)[:, :, None]  # (19, 2, 1)
    assert conformal_quantile(errors, 80.0)[:, 0].tolist() == [16.0, 32.0]
    assert conformal_quantile(errors, 95.0)[:, 0].tolist() == [19.0, 38.0]


def test_too_few_calibration_windows_give_infinite_width() -> None:
    errors = np.arange(1.0, 10.0).reshape(9, 1, 1)
    assert conformal_quantile(errors, 80.0).item() == 8.0
    assert math.isinf(conformal_quantile(errors, 95.0).item())


def test_calibrate_uses_absolute_errors_per_step_and_column() -> None:
    m = 19
    actual = np.zeros((m, 2, 2))
    forecast = np.zeros((m, 2, 2))
    forecast[:, 0, 0] = np.arange(1.0, 20.0)       # over-forecasts: |e| = 1..19
    forecast[:, 1, 0] = -np.arange(1.0, 20.0) * 3  # under-forecasts: |e| = 3..57
    forecast[:, :, 1] = 5.0                        # constant error 5 in column 2
    cal = calibrate(actual, forecast, (80.0, 95.0))
    assert cal.half_widths.shape == (2, 2, 2)
    assert cal.half_widths[0].tolist() == [[16.0, 5.0], [48.0, 5.0]]
    assert cal.half_widths[1].tolist() == [[19.0, 5.0], [57.0, 5.0]]
    assert cal.n_calibration == m


def test_half_widths_never_shrink_further_ahead() -> None:
    # Step 2's errors (1..9) are smaller than step 1's (10..90); step 3's are the largest.
    errors = np.stack([np.arange(10.0, 100.0, 10.0), np.arange(1.0, 10.0),
                       np.arange(100.0, 1000.0, 100.0)], axis=1)[:, :, None]  # (9, 3, 1)
    cal = calibrate(errors, np.zeros_like(errors), (80.0,))
    # rank ⌈10·0.8⌉ = 8 per step: 80, 8, 800 → running maximum 80, 80, 800.
    assert cal.half_widths[0, :, 0].tolist() == [80.0, 80.0, 800.0]


def test_coverage_and_width_are_counted_exactly() -> None:
    cal = Intervals((80.0,), np.full((1, 1, 1), 2.0), n_calibration=10)
    forecast = np.zeros((5, 1, 1))
    actual = np.array([-3.0, -2.0, 0.0, 2.0, 2.5]).reshape(5, 1, 1)  # 3 of 5 inside ±2
    scores = coverage(cal, actual, forecast)
    assert scores == {"80": {"coverage": 60.0, "mean_width": 4.0, "unbounded": 0.0}}


def test_unbounded_intervals_are_left_out_of_coverage_and_width() -> None:
    """Too few calibration windows for 95 %: an infinite interval 'covers' every value, which
    says nothing; coverage and width are over the bounded points, and the share is said."""
    widths = np.array([[[2.0], [np.inf]], [[np.inf], [np.inf]]])  # (2 levels, H=2, k=1)
    cal = Intervals((80.0, 95.0), widths, n_calibration=7)
    forecast = np.zeros((4, 2, 1))
    actual = np.array([[1.0, 50.0], [3.0, -9.0], [-1.0, 0.0], [5.0, 5.0]])[:, :, None]
    scores = coverage(cal, actual, forecast)
    # 80 %: step 1 bounded (±2): 1 and -1 inside, 3 and 5 outside; step 2 unbounded
    assert scores["80"] == {"coverage": 50.0, "mean_width": 4.0, "unbounded": 50.0}
    assert math.isnan(scores["95"]["coverage"])
    assert math.isnan(scores["95"]["mean_width"])
    assert scores["95"]["unbounded"] == 100.0


def test_json_round_trip_keeps_infinite_widths() -> None:
    widths = np.array([[[1.5]], [[np.inf]]])
    cal = Intervals((80.0, 97.5), widths, n_calibration=9)
    raw = cal.to_json()
    assert raw["half_widths"] == [[[1.5]], [[None]]]
    back = Intervals.from_json(raw)
    assert back.levels == (80.0, 97.5)
    assert back.half_widths[0, 0, 0] == 1.5
    assert math.isinf(back.half_widths[1, 0, 0])
    assert [level_label(lv) for lv in back.levels] == ["80", "97.5"]


@pytest.mark.parametrize("level", [0.0, 100.0, -5.0])
def test_levels_outside_0_100_are_refused(level: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        calibrate(np.zeros((3, 1, 1)), np.zeros((3, 1, 1)), (level,))
