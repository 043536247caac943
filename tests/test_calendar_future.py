"""Calendar values of the forecast horizon: the future block, its timestamps, and the network's
second input, in-process with real TensorFlow (untrained, seeded networks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast_cli.core.windowing import WindowSpec
from forecast_cli.data.calendar_features import future_columns, horizon_values, with_calendar
from forecast_cli.data.frame import load_csv
from forecast_cli.data.frequency import future_index
from forecast_cli.errors import DataError
from forecast_cli.model import api as model
from tests.conftest import write_series


def spec(**kw: object) -> model.NetworkSpec:
    base: dict[str, object] = dict(lookback=6, horizon=3, n_inputs=3, target_index=(0,),
                                   lstm_units=4, lstm_layers=1, dense_units=(5,), dropout=0.0,
                                   window_norm="last", seed=1, n_future=2)
    base.update(kw)
    return model.NetworkSpec(**base)  # type: ignore[arg-type]


def test_future_block_of_an_origin_is_the_calendar_of_its_target_rows(tmp_path: Path) -> None:
    """Hourly data from 00:00: row r is hour r mod 24, so origin t's step h (0-based) has
    cal_hour_sin = sin(2π·((t+h) mod 24)/24) and cal_hour_cos = cos(…)."""
    n, lookback, horizon = 60, 5, 4
    frame = with_calendar(load_csv(write_series(tmp_path / "h.csv", np.arange(n, dtype=float),
                                                start="2024-01-01 00:00", freq="h")))
    future = future_columns(frame, 6)
    assert future is not None
    s = spec(lookback=lookback, horizon=horizon, n_inputs=len(frame.columns), n_future=6)
    t = np.arange(lookback, n - horizon + 1)
    batches = list(model.window_dataset(frame.values, frame.values[:, :1], t, s, batch_size=7,
                                        future=future))
    window = np.concatenate([b[0]["window"].numpy() for b in batches])  # (m, L, F)
    block = np.concatenate([b[0]["future"].numpy() for b in batches])  # (m, H, 6)
    assert block.shape == (len(t), horizon, 6)
    hour = (t[:, None] + np.arange(horizon)[None, :]) % 24  # (m, H)
    np.testing.assert_allclose(block[:, :, 0], np.sin(2 * np.pi * hour / 24), atol=1e-6)
    np.testing.assert_allclose(block[:, :, 1], np.cos(2 * np.pi * hour / 24), atol=1e-6)
    # the past window is unchanged: every input column, calendar included, of rows t-L … t-1
    np.testing.assert_array_equal(window, WindowSpec(lookback, horizon).inputs(
        frame.values.astype(np.float32), t))


def test_predict_timestamps_after_a_month_end_series_and_their_year_phase() -> None:
    """After 2020-01-31 at month-end frequency: 2020-02-29, 2020-03-31, 2020-04-30 (leap
    year), whose year phases are (day of year − 1)/365.25 = 59, 90, 120 / 365.25."""
    last = pd.Timestamp("2020-01-31")
    assert list(future_index(last, "ME", 3)) == [
        pd.Timestamp("2020-02-29"), pd.Timestamp("2020-03-31"), pd.Timestamp("2020-04-30")]
    block = horizon_values([last, pd.Timestamp("2020-02-29")], "ME", 3)
    assert block.shape == (2, 3, 2)  # monthly data: the year cycle only
    angle = 2 * np.pi * np.array([59, 90, 120]) / 365.25
    np.testing.assert_allclose(block[0], np.column_stack([np.sin(angle), np.cos(angle)]))
    np.testing.assert_allclose(block[1, :2], block[0, 1:])  # the next series starts a month on


def test_future_columns_refuse_a_frame_without_the_calendar(tmp_path: Path) -> None:
    frame = load_csv(write_series(tmp_path / "d.csv", np.arange(20.0)))
    assert future_columns(frame, 0) is None
    with pytest.raises(DataError, match="needs 4 calendar inputs per forecast step"):
        future_columns(frame, 4)


@pytest.mark.parametrize("independent", [False, True])
def test_network_has_a_future_input_that_changes_the_forecast(independent: bool) -> None:
    s = spec(channel_independence=independent)
    net = model.build_network(s)
    assert [inp.name for inp in net.inputs] == ["window", "future"]
    assert [tuple(inp.shape) for inp in net.inputs] == [(None, 6, 3), (None, 3, 2)]
    rng = np.random.default_rng(0)
    x, f = rng.standard_normal((4, 6, 3)), rng.standard_normal((4, 3, 2))
    base = model.predict_array(net, x, f)
    assert base.shape == (4, 3, 1)
    moved = model.predict_array(net, x, f + 1.0)
    assert np.abs(moved - base).min() > 1e-4  # every forecast of every window moves
    other = f.copy()
    other[0] += 1.0  # only window 0's future changes: only its forecast moves
    changed = model.predict_array(net, x, other)
    assert np.abs(changed[0] - base[0]).min() > 1e-4
    np.testing.assert_allclose(changed[1:], base[1:], atol=1e-6)
    with pytest.raises(ValueError, match="takes 2 input"):
        model.predict_array(net, x)


def test_spec_without_future_keeps_one_input_and_old_bundles_load() -> None:
    old = spec(n_future=0)
    net = model.build_network(old)
    assert [tuple(inp.shape) for inp in net.inputs] == [(None, 6, 3)]
    raw = old.to_json()
    del raw["n_future"]  # config.json of a bundle written before the future input existed
    assert model.NetworkSpec.from_json(raw) == old
    assert model.NetworkSpec.from_json(spec().to_json()).n_future == 2
    with pytest.raises(ValueError, match="n_future"):
        model.NetworkSpec.from_json({**raw, "n_future": -1})
    values = np.zeros((20, 3), np.float32)
    with pytest.raises(ValueError, match="without a future input"):
        model.window_dataset(values, None, np.arange(6, 17), old, 4, future=values[:, :2])
    with pytest.raises(ValueError, match=r"future inputs of shape \(20, 2\)"):
        model.window_dataset(values, None, np.arange(6, 17), spec(), 4)


def test_backtest_with_calendar_scores_the_targets_only(tmp_path: Path) -> None:
    """In-process, one fold: the actuals are the 4 target values after the origin (a ramp, so
    row r holds r), not the calendar columns, and the network got its future block."""
    from forecast_cli.pipeline.backtest import backtest
    from forecast_cli.settings import Settings

    data = write_series(tmp_path / "h.csv", np.arange(80, dtype=float), start="2024-01-01",
                        freq="h", columns=("y",))
    result = backtest(data, Settings(target=("y",), calendar=True, lookback=8, horizon=4,
                                     lstm_units=4, epochs=1, patience=1, folds=1, seed=7,
                                     ensemble_seeds=1, ensemble_lookbacks=(1.0,)))  # 1 net
    (fold,) = result.folds
    assert fold.fold.origin == 76
    np.testing.assert_array_equal(fold.actual, np.arange(76.0, 80.0).reshape(1, 4, 1))
    assert fold.forecasts["model"].shape == (1, 4, 1)
    assert np.isfinite(fold.forecasts["model"]).all()
