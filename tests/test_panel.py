"""Many series in one long file: per-series checks, splits, scaling and windows (no TensorFlow),
then one real `train --id-col` → `predict` round trip on the sample file (the trainings, the
refusals and the clean predict run the CLI in this process, ``cli_helpers.run_cli``; the
forecasts of chosen and of changed series come from `forecast predict` subprocesses)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast_cli.data.frame import load_csv
from forecast_cli.data.validation import check_csv
from forecast_cli.errors import DataError
from forecast_cli.loadoptions import LoadOptions
from forecast_cli.pipeline import panel
from tests.cli_helpers import run_cli
from tests.conftest import REPO, SINGLE, assert_png, run_forecast

MACRO = REPO / "sample_data" / "macro_quarterly_long.csv"


def _long(tmp_path: Path, lengths: dict[str, int]) -> Path:
    """Series s with n rows: value = 100·index(s) + row, daily from 2024-01-01, ids shuffled."""
    rows = [(sid, ts.date().isoformat(), 100 * k + i)
            for k, (sid, n) in enumerate(lengths.items())
            for i, ts in enumerate(pd.date_range("2024-01-01", periods=n, freq="D"))]
    frame = pd.DataFrame(rows, columns=["store", "day", "sales"]).sample(frac=1, random_state=0)
    path = tmp_path / "long.csv"
    frame.to_csv(path, index=False)
    return path


def test_long_format_is_split_by_id_and_sorted_within(tmp_path: Path) -> None:
    frame = load_csv(_long(tmp_path, {"b": 5, "a": 3}), options=LoadOptions(id_col="store"))
    assert frame.series_ids == ("a", "b")
    np.testing.assert_array_equal(frame.bounds(), [0, 3, 8])
    np.testing.assert_array_equal(frame.column("sales"), [100, 101, 102, 0, 1, 2, 3, 4])


def test_same_time_in_two_series_is_no_duplicate_but_gaps_name_the_series(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("id,ts,v\nx,2024-01-01,1\ny,2024-01-01,1\nx,2024-01-02,2\ny,2024-01-03,3\n")
    report = check_csv(path, None, LoadOptions(id_col="id")).report
    assert [(f.kind, f.what) for f in report.errors] == [
        ("gap", "gap(s) in the timestamps in series 'y'")]
    assert [s.id for s in report.series] == ["x", "y"]


def _layout(tmp_path: Path, strict: bool = False) -> tuple[panel.Panel, np.ndarray]:
    frame = load_csv(_long(tmp_path, {"a": 40, "b": 6, "c": 30}),
                     options=LoadOptions(id_col="store"))
    p = panel.layout(frame, 0.7, 0.15, lookback=4, horizon=2, season=1, strict=strict)
    return p, frame.values


def test_windows_never_cross_series_and_short_ones_are_padded(tmp_path: Path) -> None:
    p, _ = _layout(tmp_path)
    assert p.ids == ("a", "b", "c")  # b (6 rows) is too short for the split: kept, flagged
    assert p.short == (False, True, False)
    assert p.skipped == ()
    assert "b (6 rows)" in p.warnings[0]
    np.testing.assert_array_equal(p.starts, [0, 40, 46])  # a: rows 0–39, b: 40–45, c: 46–75
    for part in ("train", "val", "test"):
        origins, which = p.origins(part, 4, 2)
        first = p.starts[which]
        last = first + np.array([p.bounds[i].n for i in which])
        padded = np.array([p.short[i] for i in which], bool)
        assert (origins - 4 >= first)[~padded].all()  # inputs start inside the series
        assert (origins - 1 >= first).all()  # a padded window reads ≥ 1 row of its own
        assert (origins + 2 <= last).all()  # targets end inside the series
    # a (40 rows): train rows [0, 28) → origins 4…26 = 23 windows; c (30 rows): [0, 21) → 16;
    # b (6 rows): test its last 2 rows (origin 4), validation the 2 before (origin 2), and
    # its 2 training rows hold no whole window
    assert len(p.origins("train", 4, 2)[0]) == 23 + 16
    for part, origin in (("val", 42), ("test", 44)):
        at, which = p.origins(part, 4, 2)
        assert list(at[which == 1]) == [origin]


def test_a_series_of_one_row_is_refused_with_strict(tmp_path: Path) -> None:
    frame = load_csv(_long(tmp_path, {"a": 40, "b": 1, "c": 30}),
                     options=LoadOptions(id_col="store"))
    p = panel.layout(frame, 0.7, 0.15, lookback=4, horizon=2, season=1, strict=False)
    assert p.skipped == ("b",)
    with pytest.raises(DataError, match=r"1 series with fewer than 2 complete rows.* b \(1 rows\)"):
        panel.layout(frame, 0.7, 0.15, lookback=4, horizon=2, season=1, strict=True)


def test_each_series_is_scaled_by_its_own_training_rows(tmp_path: Path) -> None:
    frame = load_csv(_long(tmp_path, {"a": 40, "c": 30}), options=LoadOptions(id_col="store"))
    p = panel.layout(frame, 0.7, 0.15, lookback=4, horizon=2, season=1, strict=False)
    scalers = panel.series_scalers(frame, p, "standard")
    # a: training rows 0…27 → mean 13.5; c: values 100…120 (21 rows) → mean 110
    np.testing.assert_allclose([s.offset[0] for s in scalers.scalers], [13.5, 110.0])
    a = scalers.transform(frame.values[None, :28], np.array([0]))
    c = scalers.transform(frame.values[None, 40:61], np.array([1]))
    np.testing.assert_allclose(a.mean(), 0.0, atol=1e-12)
    np.testing.assert_allclose(c.mean(), 0.0, atol=1e-12)


@pytest.fixture(scope="module")
def macro_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("macro") / "out"
    png = out.parent / "train.png"
    result = run_cli("train", MACRO, "--id-col", "series", "--lookback", "8", "--horizon",
                     "4", "--lstm-units", "8", "--epochs", "2", "--patience", "1",
                     "--seed", "7", *SINGLE, "-o", out, "--plot", png)
    assert result.returncode == 0, result.stderr
    assert "worst of 8 series" in result.stdout
    assert_png(png)  # one panel per series (the first 4) and the loss curves
    return out


def test_train_id_col_reports_overall_and_per_series(macro_model: Path) -> None:
    metrics = json.loads((macro_model / "metrics.json").read_text())
    ids = ["cpi", "m1", "pop", "realcons", "realdpi", "realgdp", "realgovt", "realinv"]
    assert sorted(metrics["series"]) == ids
    assert set(metrics["test"]) == {"model", "naive", "seasonal_naive"}
    # 203 rows per series: test rows [round(0.7·203) + round(0.15·203), 203) = [172, 203)
    # → 31 − 4 + 1 = 28 windows per series
    assert metrics["windows"]["test"] == 8 * 28
    table = pd.read_csv(macro_model / "test_forecasts.csv")
    assert table.columns[0] == "series"
    assert (table.groupby("series").size() == 28 * 4).all()
    config = json.loads((macro_model / "model" / "config.json").read_text())
    assert sorted(config["data"]["panel"]["series"]) == ids


def test_predict_all_or_chosen_series_in_long_format(macro_model: Path, tmp_path: Path) -> None:
    png = tmp_path / "two.png"
    result = run_forecast("predict", "--model", macro_model / "model", MACRO, "--series",
                          "realgdp,cpi", "--plot", png)
    assert result.returncode == 0, result.stderr
    assert_png(png)  # one panel per chosen series
    table = pd.read_csv(io.StringIO(result.stdout))
    assert list(table.columns) == ["series", "timestamp", "step", "value", "value_lower_80",
                                   "value_upper_80", "value_lower_95", "value_upper_95"]
    assert (table["value_lower_80"] <= table["value"]).all()
    assert (table["value"] <= table["value_upper_80"]).all()
    assert list(table["series"]) == ["realgdp"] * 4 + ["cpi"] * 4
    assert list(table["timestamp"][:4]) == ["2009-10-01T00:00:00", "2010-01-01T00:00:00",
                                            "2010-04-01T00:00:00", "2010-07-01T00:00:00"]
    assert np.isfinite(table["value"]).all()
    unknown = run_cli("predict", "--model", macro_model / "model", MACRO, "--series", "gdp")
    assert unknown.returncode == 65
    assert "--series gdp not in column 'series'" in unknown.stderr


def test_features_are_inputs_recorded_and_required_at_predict(tmp_path: Path) -> None:
    """A past covariate x: scaled with the target, recorded as an input, checked by predict."""
    t = np.arange(120)
    frame = pd.DataFrame({"day": pd.date_range("2024-01-01", periods=120, freq="D"),
                          "y": 10 + np.sin(2 * np.pi * t / 7), "x": np.cos(2 * np.pi * t / 7)})
    data = tmp_path / "cov.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "out"
    result = run_cli("train", data, "--target", "y", "--features", "x", "--calendar",
                     "--lookback", "8",
                     "--horizon", "4", "--lstm-units", "8", "--epochs", "1", "--seed", "7",
                     *SINGLE, "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    config = json.loads((out / "model" / "config.json").read_text())
    calendar = ["cal_weekday_sin", "cal_weekday_cos", "cal_year_sin", "cal_year_cos"]  # daily
    assert config["data"]["inputs"] == ["y", "x", *calendar]
    assert config["data"]["targets"] == ["y"]
    assert config["network"]["target_index"] == [0]
    assert config["settings"]["features"] == ["x"]
    assert config["settings"]["calendar"] is True
    scaler = json.loads((out / "model" / "scaler.json").read_text())
    # standard scaling of x on the 84 training rows (12 whole weeks of a cosine): mean 0
    assert abs(scaler["offset"][1]) < 1e-9
    table = pd.read_csv(out / "test_forecasts.csv")
    assert set(table["target"]) == {"y"}
    frame.drop(columns="x").to_csv(tmp_path / "no_x.csv", index=False)
    missing = run_cli("predict", "--model", out / "model", tmp_path / "no_x.csv")
    assert missing.returncode == 65
    assert "value column 'x' not found" in missing.stderr


def test_predict_after_training_warns_once_with_magnitude(macro_model: Path,
                                                          tmp_path: Path) -> None:
    """The trending series lie within the range their test evaluation saw: no warning for
    the training data itself. One series tripled and one stopped early: one summary line with
    the magnitude, and one naming the series that ends early."""
    dest = tmp_path / "clean.csv"
    clean = run_cli("predict", "--model", macro_model / "model", MACRO, "-o", dest)
    assert clean.returncode == 0, clean.stderr
    assert "Warning" not in clean.stderr
    last = pd.read_csv(MACRO)["quarter"].max()  # a date: quarterly data has no time of day
    assert clean.stderr.strip() == f"Forecast of 4 steps of 8 series after {last} written to {dest}"
    data = pd.read_csv(MACRO)
    data = data[~((data["series"] == "cpi") & (data["quarter"] >= "2008-01-01"))]
    late = (data["series"] == "realgdp") & (data["quarter"] >= "2008-01-01")
    data.loc[late, "value"] *= 3
    changed = tmp_path / "changed.csv"
    data.to_csv(changed, index=False)
    result = run_forecast("predict", "--model", macro_model / "model", changed)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning")]
    assert len(warnings) == 2, result.stderr
    assert warnings[0].startswith("Warning: 1 of 8 series have recent values far outside the "
                                  "range seen in training; worst 'realgdp', column 'value': "
                                  "recent values up to ")
    assert " ranges above [2710.35, " in warnings[0]
    assert warnings[1] == ("Warning: 1 series ends before the others' last row (2009-07-01 "
                           "00:00:00): 'cpi' at 2007-10-01 00:00:00; each is forecast from its "
                           "own last row on, not from the others'.")
    table = pd.read_csv(io.StringIO(result.stdout))
    assert table[table["series"] == "cpi"]["timestamp"].iloc[0] == "2008-01-01T00:00:00"
