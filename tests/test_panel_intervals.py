"""Per-series conformal intervals (``--id-col``) on residual sets read off by hand, their JSON,
one real `train --id-col` → `predict` → `evaluate` round trip, and backtest coverage per fold."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast_cli.core.evaluation import MODEL
from forecast_cli.core.panel_intervals import (
    OWN,
    POOLED,
    SeriesIntervals,
    bounds_columns,
    calibrate_series,
    series_coverage,
)
from forecast_cli.pipeline.backtest import backtest
from forecast_cli.settings import Settings
from tests.cli_helpers import run_cli
from tests.conftest import SINGLE, run_forecast, seasonal_series, write_series

IDS = ("a", "b", "c")


def _known() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Errors (m=20, H=2, k=1): a 1..9 (scale 1), b 10..90 (scale 10), c 3, 6 (scale 3).

    Step 2 errors are twice step 1's. Windows are shuffled: order must not matter.
    """
    step1 = np.concatenate([np.arange(1.0, 10.0), 10 * np.arange(1.0, 10.0), [3.0, 6.0]])
    which = np.array([0] * 9 + [1] * 9 + [2] * 2)
    order = np.random.default_rng(0).permutation(len(step1))
    errors = np.stack([step1, 2 * step1], axis=1)[:, :, None][order]
    return errors, which[order], np.array([[1.0], [10.0], [3.0]])


def test_each_series_gets_the_quantile_of_its_own_errors() -> None:
    errors, which, scales = _known()
    si = calibrate_series(errors, which, IDS, scales, (80.0,))
    # 9 windows: rank ⌈10 · 0.8⌉ = 8 → the 8th smallest error of each series
    assert si.series["a"].half_widths[0, :, 0].tolist() == [8.0, 16.0]
    assert si.series["b"].half_widths[0, :, 0].tolist() == [80.0, 160.0]
    assert si.series["a"].methods == si.series["b"].methods == (OWN,)
    assert (si.series["a"].n_calibration, si.series["c"].n_calibration, si.n_pooled) == (9, 2, 20)


def test_a_series_with_too_few_windows_gets_the_pooled_normalised_quantile() -> None:
    errors, which, scales = _known()
    si = calibrate_series(errors, which, IDS, scales, (80.0,))
    # c: 2 windows, rank ⌈3 · 0.8⌉ = 3 > 2. Pool of errors / scale: a 1..9, b 1..9, c 1, 2 →
    # sorted 1,1,1,2,2,2,3,3,4,4,5,5,6,6,7,7,8,8,9,9; rank ⌈21 · 0.8⌉ = 17 → 8; × scale 3 = 24.
    assert si.series["c"].methods == (POOLED,)
    assert si.series["c"].half_widths[0, :, 0].tolist() == [24.0, 48.0]


def test_levels_too_high_for_own_windows_fall_back_per_level() -> None:
    errors, which, scales = _known()
    si = calibrate_series(errors, which, IDS, scales, (80.0, 90.0, 99.0))
    # a at 90 %: rank ⌈10 · 0.9⌉ = 9 ≤ 9 → own 9th = 9; c at 90 %: pooled rank ⌈18.9⌉ = 19 → 9
    assert si.series["a"].methods == (OWN, OWN, POOLED)
    assert si.series["a"].half_widths[1, 0, 0] == 9.0
    assert si.series["c"].half_widths[1, 0, 0] == 9.0 * 3
    # 99 %: rank ⌈21 · 0.99⌉ = 21 > 20 even for the pool: no finite interval is honest
    assert np.isinf(si.series["b"].half_widths[2]).all()


def test_widths_never_shrink_further_ahead() -> None:
    # one series, 9 windows: step 1 errors 1..9, step 2 errors 0.1..0.9 → own 80 % quantiles
    # 8 and 0.8; the running maximum over steps lifts step 2 to 8.
    e = np.arange(1.0, 10.0)
    errors = np.stack([e, e / 10], axis=1)[:, :, None]
    si = calibrate_series(errors, np.zeros(9, np.int64), ("a",), np.ones((1, 1)), (80.0,))
    assert si.series["a"].half_widths[0, :, 0].tolist() == [8.0, 8.0]


def test_json_round_trip_keeps_widths_methods_and_infinity() -> None:
    errors, which, scales = _known()
    si = calibrate_series(errors, which, IDS, scales, (80.0, 99.0))
    raw = json.loads(json.dumps(si.to_json()))  # strict JSON: inf written as null
    assert raw["series"]["c"]["calibration"] == {"80": POOLED, "99": POOLED}
    assert raw["series"]["a"]["half_widths"][1] == [[None], [None]]
    back = SeriesIntervals.from_json(raw)
    assert back.levels == (80.0, 99.0)
    for sid in IDS:
        np.testing.assert_array_equal(back.series[sid].half_widths, si.series[sid].half_widths)
        assert back.series[sid].methods == si.series[sid].methods
        np.testing.assert_array_equal(back.series[sid].scale, scales[IDS.index(sid)])
    raw["series"]["a"]["calibration"]["80"] = "guess"
    with pytest.raises(ValueError, match="calibration must be"):
        SeriesIntervals.from_json(raw)


def test_coverage_overall_and_per_series_by_hand() -> None:
    errors, which, scales = _known()
    si = calibrate_series(errors, which, IDS, scales, (80.0,))  # a: ±8, ±16; b: ±80, ±160
    forecast = np.zeros((4, 2, 1))
    actual = np.array([[5, 20], [9, 10], [-80, 160], [0, 0]], dtype=float)[:, :, None]
    test_which = np.array([0, 0, 1, 1])
    overall, per = series_coverage(si, actual, forecast, test_which, ("a", "b"))
    # a: 5 in, 20 out, 9 out, 10 in → 50 %; b: the bounds themselves count as inside → 100 %
    assert per["a"]["test"]["80"] == {"coverage": 50.0, "mean_width": 24.0, "unbounded": 0.0}
    assert per["b"]["test"]["80"] == {"coverage": 100.0, "mean_width": 240.0, "unbounded": 0.0}
    assert per["a"]["calibration"] == {"80": OWN}
    assert overall["80"] == {"coverage": 75.0, "mean_width": 132.0, "unbounded": 0.0}
    cols = bounds_columns(si, forecast, ["a", "a", "b", "b"])
    assert cols["upper_80"][:, :, 0].tolist() == [[8, 16], [8, 16], [80, 160], [80, 160]]
    assert cols["lower_80"][0, :, 0].tolist() == [-8, -16]


def _three_series(tmp_path: Path) -> Path:
    """a: weekly sine on a trend (80 days); b = 100 · a; c: another sine × 10 (40 days)."""
    a = seasonal_series(80)
    c = 10 * seasonal_series(40, seed=1)
    days = pd.date_range("2024-01-01", periods=80, freq="D")
    frame = pd.concat([pd.DataFrame({"store": sid, "day": days[: len(v)], "sales": v})
                       for sid, v in (("a", a), ("b", 100 * a), ("c", c))])
    path = tmp_path / "stores.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("stores")
    data, out = _three_series(tmp), tmp / "out"
    res = run_cli("train", data, "--id-col", "store", "--lookback", "8", "--horizon", "4",
                  "--lstm-units", "4", "--epochs", "1", "--seed", "7", *SINGLE, "-o", out, "-q")
    assert res.returncode == 0, res.stderr
    return {"data": data, "out": out}


def test_train_records_the_method_of_each_series(stores: dict[str, Path]) -> None:
    metrics = json.loads((stores["out"] / "metrics.json").read_text())
    iv = metrics["intervals"]
    # a, b: 80 rows → val rows [56, 68) → 9 windows: 80 % own (rank 8), 95 % pooled (rank 10)
    # c: 40 rows → val rows [28, 34) → 3 windows: both pooled
    assert iv["series"]["a"]["calibration"] == {"80": OWN, "95": POOLED}
    assert iv["series"]["c"]["calibration"] == {"80": POOLED, "95": POOLED}
    assert [iv["series"][s]["n_calibration"] for s in IDS] == [9, 9, 3]
    assert iv["calibration_windows"] == 21
    assert iv["series_using_pooled"] == ["a", "b", "c"]
    for scores in [iv["test"], *(iv["series"][s]["test"] for s in IDS)]:
        assert set(scores) == {"80", "95"}
        assert all(0.0 <= v["coverage"] <= 100.0 for v in scores.values())
    bundle_iv = json.loads((stores["out"] / "model" / "intervals.json").read_text())
    assert bundle_iv["series"]["c"]["calibration"] == {"80": POOLED, "95": POOLED}
    table = pd.read_csv(stores["out"] / "test_forecasts.csv")
    assert (table["lower_80"] <= table[MODEL]).all()
    assert (table[MODEL] <= table["upper_80"]).all()


def test_predict_writes_interval_columns_scaled_to_each_series(stores: dict[str, Path]) -> None:
    res = run_forecast("predict", "--model", stores["out"] / "model", stores["data"])
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(io.StringIO(res.stdout))
    assert list(table.columns) == ["store", "timestamp", "step", "sales", "sales_lower_80",
                                   "sales_upper_80", "sales_lower_95", "sales_upper_95"]
    assert (table["sales_lower_95"] <= table["sales_lower_80"]).all()
    assert (table["sales_lower_80"] <= table["sales"]).all()
    assert (table["sales"] <= table["sales_upper_80"]).all()
    assert (table["sales_upper_80"] <= table["sales_upper_95"]).all()
    width = {sid: (g["sales_upper_80"] - g["sales_lower_80"]).to_numpy()
             for sid, g in table.groupby("store")}
    # b is a × 100 and each series is scaled by its own training rows: the network sees the
    # same scaled windows, so b's errors, and its widths, are a's × 100.
    np.testing.assert_allclose(width["b"], 100 * width["a"], rtol=1e-4)
    # a at 95 % and c use the one pooled normalised quantile, each × its own scale
    raw = json.loads((stores["out"] / "model" / "intervals.json").read_text())["series"]
    per_scale = [np.asarray(raw[s]["half_widths"][1])[:, 0] / raw[s]["scale"][0] for s in "ac"]
    np.testing.assert_allclose(per_scale[0], per_scale[1], rtol=1e-9)


def test_id_col_bundle_without_intervals_reads_and_adds_no_columns(stores: dict[str, Path],
                                                                  tmp_path: Path) -> None:
    """A bundle written before per-series intervals: no intervals.json, no interval columns."""
    import shutil

    from forecast_cli.model.bundle import read_bundle
    from forecast_cli.pipeline import bundle_series
    from forecast_cli.pipeline.forecasting import _bounds

    old = tmp_path / "old"
    shutil.copytree(stores["out"] / "model", old)
    assert read_bundle(old).series_intervals is not None
    widths = bundle_series.intervals(read_bundle(old))
    assert set(_bounds(widths, "a", np.zeros((4, 1)), ("sales",))) == {
        "sales_lower_80", "sales_upper_80", "sales_lower_95", "sales_upper_95"}
    (old / "intervals.json").unlink()
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest["files"]["intervals.json"]
    (old / "manifest.json").write_text(json.dumps(manifest))
    bundle = read_bundle(old)
    assert bundle.series_intervals is None
    assert bundle.intervals is None
    assert _bounds(bundle_series.intervals(bundle), "a", np.zeros((4, 1)), ("sales",)) == {}


def test_evaluate_id_col_reports_interval_coverage(stores: dict[str, Path],
                                                   tmp_path: Path) -> None:
    from forecast_cli.pipeline.scoring import score_bundle

    # 8 more days of every series after its data: 8 − 4 + 1 = 5 unseen windows for a and b
    frame = pd.read_csv(stores["data"])
    more = [pd.DataFrame({"store": sid, "day": pd.date_range(pd.Timestamp(g["day"].max())
                                                             + pd.Timedelta(days=1),
                                                             periods=8, freq="D").date,
                          "sales": g["sales"].iloc[-8:].to_numpy()})
            for sid, g in frame.groupby("store")]
    longer = tmp_path / "longer.csv"
    pd.concat([frame, *more]).to_csv(longer, index=False)
    report = score_bundle(stores["out"] / "model", longer).to_json()
    # Only windows whose targets all lie after the last training day (2024-03-20, of a and b)
    # count: c's data ends on 2024-02-17, so it has none.
    assert report["windows"] == 10
    assert report["first_target"] == "2024-03-21T00:00:00"
    assert sorted(report["series"]) == ["a", "b"]
    assert set(report["intervals"]) == {"80", "95"}
    assert sorted(report["series_intervals"]) == ["a", "b"]
    for sid in ("a", "b"):
        assert 0.0 <= report["series_intervals"][sid]["test"]["80"]["coverage"] <= 100.0


def test_backtest_constant_series_has_zero_errors_width_and_full_coverage(
        tmp_path: Path) -> None:
    """A constant: every window has the same inputs, so the network forecasts the same values
    at every validation and test window and the calibrated half-width is exactly that error
    (zero when the network outputs the constant itself): full coverage, width 2 · MAE.

    200 rows, 2 folds 4 apart: fold 1's origin is 192, its last round(192 · 0.15 / 0.85) = 34
    rows validate → 31 windows, enough for 95 % (rank ⌈32 · 0.95⌉ = 31)."""
    data = write_series(tmp_path / "flat.csv", np.full(200, 5.0))
    s = Settings(lookback=8, horizon=4, season=1, lstm_units=4, epochs=1, batch_size=16,
                 folds=2, refit_every=2, seed=3, ensemble_seeds=1,
                 ensemble_lookbacks=(1.0,))  # one network: the ensemble has its own tests
    r = backtest(data, s)
    for fr in r.folds:
        mae = fr.scores[MODEL]["mae"]
        for level in ("80", "95"):
            assert fr.intervals[level]["coverage"] == 100.0
            # one common error e_h per step: width 2·e_h, so the mean width is 2 · MAE
            assert fr.intervals[level]["mean_width"] == pytest.approx(2 * mae, rel=1e-5)
    assert r.intervals["80"]["coverage"] == 100.0
    assert r.folds[0].calibration_windows == r.folds[1].calibration_windows == 31


def test_a_level_too_high_for_its_calibration_windows_is_named_in_a_warning() -> None:
    """7 windows: an 80 % interval has rank ⌈8·0.8⌉ = 7 ≤ 7 (finite); 95 % needs rank 8 > 7
    (infinite) and m ≥ 19 (⌈20·0.95⌉ = 19); the warning names that, and nothing for 80 %."""
    from forecast_cli.core.panel_intervals import calibrate_series, unbounded_warnings

    errors = np.arange(1.0, 8.0).reshape(7, 1, 1)
    si = calibrate_series(errors, np.zeros(7, int), ("a",), np.ones((1, 1)), (80.0, 95.0))
    (only,) = unbounded_warnings(si)
    assert only.startswith("the 95 % intervals are unbounded")
    assert "7 validation windows" in only
    assert "at least 19" in only
