"""The panel layout, scaling, scores and intervals hold for S = 1 and S > 1 alike (issue 12).

Every series is a ramp with its own slope and level, so each expected number follows from the
ramp: the training mean of series i is its level plus slope·(train_end − 1)/2, and naive's
error at step h of every window is slope·h.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast_cli.core.intervals import calibrate
from forecast_cli.core.panel_intervals import calibrate_series
from forecast_cli.core.scaling import SeriesScalers, fit_scaler
from forecast_cli.core.windowing import WindowSpec
from forecast_cli.data.frame import load_csv
from forecast_cli.loadoptions import LoadOptions
from forecast_cli.pipeline import panel

LOOKBACK, HORIZON, SEASON = 6, 3, 4


def _ramps(tmp_path: Path, sizes: list[int]) -> Path:
    """Series s{i}: 10·(i + 1) + (i + 1)·t for t < sizes[i]; no id column for one series."""
    parts = []
    for i, n in enumerate(sizes):
        parts.append(pd.DataFrame({
            "series": f"s{i}", "day": pd.date_range("2024-01-01", periods=n, freq="D"),
            "value": 10.0 * (i + 1) + (i + 1) * np.arange(n)}))
    table = pd.concat(parts)
    if len(sizes) == 1:
        table = table.drop(columns="series")
    path = tmp_path / "ramps.csv"
    table.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("sizes", [[60], [60, 45, 80]])
def test_layout_windows_scaling_and_naive_scores(tmp_path: Path, sizes: list[int]) -> None:
    opts = LoadOptions(id_col="series" if len(sizes) > 1 else None)
    frame = load_csv(_ramps(tmp_path, sizes), options=opts)
    p = panel.layout(frame, 0.7, 0.15, LOOKBACK, HORIZON, SEASON, strict=False)
    assert len(p.ids) == len(sizes)
    edges = np.concatenate(([0], np.cumsum(sizes)))
    for part in ("train", "val", "test"):
        at, which = p.origins(part, LOOKBACK, HORIZON)
        assert len(at)
        assert sorted(set(which.tolist())) == list(range(len(sizes)))
        # every window's inputs and targets lie inside its own series
        assert (at - LOOKBACK >= edges[which]).all()
        assert (at + HORIZON <= edges[which + 1]).all()
    scalers = panel.series_scalers(frame, p, "standard")
    for i, (sc, b) in enumerate(zip(scalers.scalers, p.bounds, strict=True)):
        np.testing.assert_allclose(sc.offset, [10.0 * (i + 1) + (i + 1) * (b.train_end - 1) / 2])
    test_o, which = p.origins("test", LOOKBACK, HORIZON)
    values = frame.values[:, :1]
    actual = WindowSpec(LOOKBACK, HORIZON).targets(values, test_o)
    naive = values[test_o - 1][:, None, :].repeat(HORIZON, axis=1)
    scales = panel.mase_scales(frame, p, SEASON)
    np.testing.assert_allclose(scales[:, 0], SEASON * np.arange(1, len(sizes) + 1))
    overall, per = panel.scores(actual, naive, which, scales)
    for i in range(len(sizes)):  # naive's error on a ramp of slope a is a·h: MAE a·(H + 1)/2
        np.testing.assert_allclose(per[i]["mae"], (i + 1) * (HORIZON + 1) / 2)
        np.testing.assert_allclose(per[i]["mase"], (HORIZON + 1) / 2 / SEASON)
    np.testing.assert_allclose(overall["mase"], (HORIZON + 1) / 2 / SEASON)
    if len(sizes) == 1:
        assert overall == per[0]


@pytest.mark.parametrize("n_series", [1, 3])
def test_series_scalers_match_each_series_own_scaler(n_series: int) -> None:
    rng = np.random.default_rng(0)
    scalers = SeriesScalers(tuple(fit_scaler("standard", rng.normal(i, i + 1, (30, 2)))
                                  for i in range(n_series)))
    x = rng.normal(size=(7, 5, 2))
    which = rng.integers(0, n_series, 7)
    scaled = scalers.transform(x, which)
    for m in range(7):
        np.testing.assert_array_equal(scaled[m], scalers.scalers[which[m]].transform(x[m]))
    np.testing.assert_allclose(scalers.inverse(scaled, which), x, rtol=1e-12)


def test_per_series_intervals_of_one_series_are_the_single_series_intervals() -> None:
    rng = np.random.default_rng(1)
    actual, forecast = rng.normal(size=(40, 3, 2)), rng.normal(size=(40, 3, 2))
    single = calibrate(actual, forecast, (80.0, 95.0, 99.0))  # 99 %: too few windows, inf
    series = calibrate_series(np.abs(actual - forecast), np.zeros(40, np.int64), ("a",),
                              np.ones((1, 2)), (80.0, 95.0, 99.0))
    np.testing.assert_array_equal(series.series["a"].half_widths, single.half_widths)
    assert np.isinf(single.half_widths[2]).all()


def test_overall_mase_of_series_with_no_scale_is_undefined_without_a_warning() -> None:
    """Two flat series (in-sample scale 0): MASE is NaN, and nothing is printed (a numpy
    RuntimeWarning on stderr broke the silent batch on such data)."""
    import warnings

    from forecast_cli.pipeline.panel import scores

    actual = np.ones((4, 3, 1))
    forecast = np.full((4, 3, 1), 2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        overall, _ = scores(actual, forecast, np.array([0, 0, 1, 1]), np.zeros((2, 1)))
    assert np.isnan(overall["mase"])
    assert overall["mae"] == 1.0
