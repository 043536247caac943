"""Windows and splits: counts, alignment and no crossing, checked for arbitrary sizes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecast_cli.core.splits import (
    PARTS,
    check_length,
    min_rows,
    origins,
    split_bounds,
    window_counts,
)
from forecast_cli.core.windowing import WindowSpec
from forecast_cli.errors import DataError

sizes = st.integers(min_value=1, max_value=400)
lookbacks = st.integers(min_value=1, max_value=40)
horizons = st.integers(min_value=1, max_value=30)
fracs = st.tuples(st.floats(0.3, 0.8), st.floats(0.05, 0.3)).filter(lambda f: sum(f) < 0.97)


@given(n=sizes, frac=fracs, lookback=lookbacks, horizon=horizons)
def test_window_count_matches_the_formula(n: int, frac: tuple[float, float], lookback: int,
                                          horizon: int) -> None:
    bounds = split_bounds(n, *frac)
    for part in PARTS:
        start, stop = bounds.rows(part)
        expected = max(0, stop - horizon - max(start, lookback) + 1)
        assert len(origins(bounds, part, lookback, horizon)) == expected


@given(n=sizes, frac=fracs, lookback=lookbacks, horizon=horizons)
def test_targets_stay_inside_their_part_and_inputs_only_look_back(
        n: int, frac: tuple[float, float], lookback: int, horizon: int) -> None:
    bounds = split_bounds(n, *frac)
    spec = WindowSpec(lookback, horizon)
    for part in PARTS:
        start, stop = bounds.rows(part)
        t = origins(bounds, part, lookback, horizon)
        if t.size == 0:
            continue
        targets, inputs = spec.target_index(t), spec.input_index(t)
        assert targets.min() >= start
        assert targets.max() < stop
        assert inputs.min() >= 0
        assert (inputs.max(axis=1) == t - 1).all()  # the last input is the row before the origin


@given(n=sizes, frac=fracs)
def test_parts_cover_every_row_once_in_time_order(n: int, frac: tuple[float, float]) -> None:
    bounds = split_bounds(n, *frac)
    ranges = [bounds.rows(p) for p in PARTS]
    assert ranges[0][0] == 0
    assert ranges[-1][1] == n
    for (_, stop), (start, _) in itertools.pairwise(ranges):
        assert stop == start


@given(n=st.integers(30, 300), lookback=lookbacks, horizon=horizons)
def test_gathered_windows_are_the_rows_they_claim(n: int, lookback: int, horizon: int) -> None:
    # A ramp whose value is its own row number makes every gathered cell self-describing.
    values = np.stack([np.arange(n), -np.arange(n)], axis=1).astype(float)  # (n, 2)
    spec = WindowSpec(lookback, horizon)
    t = np.arange(lookback, n - horizon + 1)
    if t.size == 0:
        return
    x, y = spec.inputs(values, t), spec.targets(values, t)
    assert x.shape == (len(t), lookback, 2)
    assert y.shape == (len(t), horizon, 2)
    np.testing.assert_array_equal(x[:, :, 0], t[:, None] + np.arange(-lookback, 0))
    np.testing.assert_array_equal(y[:, :, 0], t[:, None] + np.arange(horizon))
    np.testing.assert_array_equal(y[:, :, 1], -y[:, :, 0])


def test_hand_counted_windows() -> None:
    # 20 rows, 0.5/0.25 → train [0,10), val [10,15), test [15,20); lookback 3, horizon 2.
    bounds = split_bounds(20, 0.5, 0.25)
    assert (bounds.train_end, bounds.val_end) == (10, 15)
    assert origins(bounds, "train", 3, 2).tolist() == [3, 4, 5, 6, 7, 8]
    assert origins(bounds, "val", 3, 2).tolist() == [10, 11, 12, 13]
    assert origins(bounds, "test", 3, 2).tolist() == [15, 16, 17, 18]
    assert window_counts(bounds, 3, 2) == {"train": 6, "val": 4, "test": 4}


def test_window_spec_prints_its_vocabulary() -> None:
    assert str(WindowSpec(24, 12)) == ("WindowSpec(lookback=24, horizon=12): inputs rows "
                                       "[t-24, t), targets rows [t, t+12)")


def test_gathering_outside_the_series_is_refused() -> None:
    with pytest.raises(IndexError):
        WindowSpec(3, 2).inputs(np.zeros((10, 1)), np.array([2]))


@given(frac=fracs, lookback=lookbacks, horizon=horizons)
def test_min_rows_is_exactly_the_threshold(frac: tuple[float, float], lookback: int,
                                           horizon: int) -> None:
    need = min_rows(*frac, lookback, horizon)
    check_length(need, *frac, lookback, horizon, "x.csv")
    with pytest.raises(DataError):
        check_length(need - 1, *frac, lookback, horizon, "x.csv")


def test_too_short_message_gives_exact_numbers() -> None:
    with pytest.raises(DataError) as err:
        check_length(30, 0.7, 0.15, 24, 12, "short.csv")
    need = min_rows(0.7, 0.15, 24, 12)
    assert str(err.value).startswith(f"short.csv: series too short: need ≥ {need} rows")
    assert "got 30" in str(err.value)
