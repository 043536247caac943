"""Calendar inputs: which cycles each frequency gets, and their values at hand-picked times."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast_cli.data.calendar_features import names, values


@pytest.mark.parametrize(("freq", "count"), [("h", 6), ("15min", 6), ("D", 4), ("W-SUN", 2),
                                             ("MS", 2), ("QS-OCT", 2), ("YS", 0)])
def test_cycles_by_frequency(freq: str, count: int) -> None:
    assert len(names(freq)) == count


def test_values_at_known_phases() -> None:
    # Monday 2024-01-01 06:00: a quarter of the day (sin 1, cos 0), weekday 0 (sin 0, cos 1),
    # day 1 of the year (phase 0: sin 0, cos 1)
    index = pd.DatetimeIndex(["2024-01-01 06:00"])
    assert names("h") == ["cal_hour_sin", "cal_hour_cos", "cal_weekday_sin", "cal_weekday_cos",
                          "cal_year_sin", "cal_year_cos"]
    np.testing.assert_allclose(values(index, "h"), [[1, 0, 0, 1, 0, 1]], atol=1e-12)


def test_values_have_unit_norm_pairs() -> None:
    index = pd.date_range("2024-01-01", periods=500, freq="7h")
    v = values(index, "7h").reshape(500, 3, 2)
    np.testing.assert_allclose((v ** 2).sum(axis=2), 1.0)
