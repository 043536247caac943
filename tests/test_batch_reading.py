"""`forecast batch` reads a job's data as `forecast train --config` does: every reading setting
(separators, decimal commas, day-first dates, time zones, fills, many series), for training,
forecasting and the realised accuracy. Real CSVs, real tiny trainings, the CLI in
subprocesses."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from forecast_cli.data.frame import load_csv
from forecast_cli.model.bundle import read_bundle
from tests.batch_helpers import TINY_JOB, history_json, runs, write_batch, write_config
from tests.conftest import run_forecast

HORIZON = TINY_JOB["horizon"]
SPLIT = {"train_frac": 0.5, "val_frac": 0.2, "test_frac": 0.3}
JOB = {"data": "data.csv", "output": "out/{job}.csv"}


def _ok(batch: Path) -> None:
    proc = run_forecast("batch", batch)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def _german(value: float) -> str:
    """1234.5 → "1.234,50": thousands '.', decimal ','."""
    return f"{value:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def test_european_csv_job_forecasts_what_train_and_predict_give(tmp_path: Path) -> None:
    n, gap = 120, 50
    # multiples of 0.25: exact in binary, so every number below is exact, the mean included
    wave = 1000 + 12.5 * np.arange(n) + 50 * np.sin(2 * np.pi * np.arange(n) / 7)
    values = np.round(4 * wave) / 4
    days = pd.date_range("2020-01-01", periods=n, freq="D")
    lines = ["Datum;Umsatz"] + [f"{d:%d/%m/%Y};{'' if i == gap else _german(v)}"
                                for i, (d, v) in enumerate(zip(days, values, strict=True))]
    data = tmp_path / "data.csv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = {**TINY_JOB, "sep": ";", "decimal": ",", "thousands": ".", "dayfirst": True,
                "fill": "interpolate", "precision": 1}  # the data has 2: by default 5
    config = write_config(tmp_path / "same.toml", settings)
    _ok(write_batch(tmp_path / "batch.toml", {"eu": JOB}, settings))

    # The numbers a person reads in the file, the gap interpolated by hand, as a plain CSV.
    plain = values.copy()
    plain[gap] = (values[gap - 1] + values[gap + 1]) / 2
    pd.DataFrame({"Datum": days, "Umsatz": plain}).to_csv(tmp_path / "plain.csv", index=False)
    (run,) = runs(tmp_path / ".forecast-state", "eu")
    assert (run["status"], run["rows"]) == ("ok", n)
    assert run["data_fingerprint"] == load_csv(tmp_path / "plain.csv").fingerprint()

    trained = run_forecast("train", data, "--config", config, "-o", tmp_path / "cli", "--quiet")
    assert trained.returncode == 0, trained.stderr
    predicted = run_forecast("predict", data, "--model", tmp_path / "cli" / "model")
    assert predicted.returncode == 0, predicted.stderr
    batch_text = (tmp_path / "out" / "eu.csv").read_text()
    assert batch_text == predicted.stdout
    forecast = pd.read_csv(tmp_path / "out" / "eu.csv", parse_dates=["timestamp"])
    assert list(forecast["timestamp"]) == list(pd.date_range("2020-04-30", periods=HORIZON))
    assert {"Umsatz_lower_80", "Umsatz_upper_95"} <= set(forecast.columns)
    cells = [c for line in batch_text.splitlines()[1:] for c in line.split(",")[2:]]
    assert max(len(c.partition(".")[2]) for c in cells) == 1  # `precision` of job and config


def test_tz_job_forecasts_and_scores_the_hours_after_the_last_row(tmp_path: Path) -> None:
    # Local Berlin wall times across the spring-forward night: 02:00 on 28 March 2021 does not
    # exist, so read without the zone the file has a missing hour and is refused.
    utc = pd.date_range("2021-03-25 00:00", periods=150, freq="h")
    wall = utc.tz_localize("UTC").tz_convert("Europe/Berlin").tz_localize(None)
    values = 10 + 0.1 * np.arange(150) + np.sin(2 * np.pi * np.arange(150) / 24)
    pd.DataFrame({"time": wall.strftime("%Y-%m-%d %H:%M"), "load": values}).to_csv(
        tmp_path / "data.csv", index=False)
    batch = write_batch(tmp_path / "batch.toml", {"tz": JOB},
                        {**TINY_JOB, "tz": "Europe/Berlin"})
    _ok(batch)
    forecast = pd.read_csv(tmp_path / "out" / "tz.csv", dtype={"timestamp": str})
    # the model works in UTC, the forecast is written in the data's zone (as `forecast predict`
    # writes it): the hours after 05:00 UTC (07:00 in Berlin, summer time) of 31 March
    expected = [utc[-1] + pd.Timedelta(hours=h) for h in range(1, HORIZON + 1)]
    later = pd.DatetimeIndex(expected).tz_localize("UTC").tz_convert("Europe/Berlin")
    assert list(forecast["timestamp"]) == [t.isoformat() for t in later]
    assert forecast["timestamp"].iloc[0] == "2021-03-31T08:00:00+02:00"

    # The actuals arrive in Berlin wall time: scored against the right hours, MAE by hand.
    errors = np.array([0.5, -1.0, 1.5, -2.0])
    more = pd.DataFrame({"time": later.tz_localize(None).strftime("%Y-%m-%d %H:%M"),
                         "load": forecast["load"].to_numpy() + errors})
    more.to_csv(tmp_path / "data.csv", mode="a", header=False, index=False)
    _ok(batch)
    (row,) = history_json(batch)["accuracy"]
    # the history keeps the model's own (UTC) origin
    assert (row["origin"], row["points"]) == ("2021-03-31T05:00:00", HORIZON)
    assert row["mae"] == pytest.approx(np.mean(np.abs(errors)), abs=1e-9)
    assert set(row["coverage"] or {}) == {"80", "95"}  # the model's interval levels


def _long_file(path: Path, series: dict[str, tuple[float, float, int]]) -> None:
    """Ramps ``offset + slope · day`` of ``rows`` days from 2020-01-01, one per store."""
    parts = [pd.DataFrame({"store": sid, "date": pd.date_range("2020-01-01", periods=rows),
                           "sales": offset + slope * np.arange(rows)})
             for sid, (slope, offset, rows) in series.items()]
    pd.concat(parts).to_csv(path, index=False, date_format="%Y-%m-%d")


def _bounds_in_db(state: Path) -> pd.DataFrame:
    with sqlite3.connect(state / "history.sqlite") as conn:
        return pd.read_sql("SELECT series, timestamp, level, lower, upper FROM "
                           "forecast_bounds ORDER BY series, timestamp, level", conn)


def _by_hand(fc: pd.DataFrame, actual: np.ndarray, levels: tuple[str, ...]
             ) -> dict[str, float]:
    return {lv: float(np.mean((fc[f"sales_lower_{lv}"] <= actual)
                              & (actual <= fc[f"sales_upper_{lv}"]))) for lv in levels}


def test_id_col_job_trains_one_model_and_scores_every_series(tmp_path: Path) -> None:
    ramps = {"a": (1.0, 0.0, 120), "b": (2.0, 50.0, 120), "c": (0.5, 10.0, 117)}
    _long_file(tmp_path / "data.csv", ramps)
    batch = write_batch(tmp_path / "batch.toml", {"stores": JOB},
                        {**TINY_JOB, **SPLIT, "id_col": "store"})
    _ok(batch)
    state = tmp_path / ".forecast-state"
    assert (tmp_path / "models" / "stores" / "current").read_text() == "v0001\n"
    bundle = read_bundle(tmp_path / "models" / "stores" / "versions" / "v0001" / "model")
    assert bundle.schema.panel is not None
    assert sorted(bundle.schema.panel["series"]) == ["a", "b", "c"]
    fc = pd.read_csv(tmp_path / "out" / "stores.csv", parse_dates=["timestamp"])
    assert list(fc.columns[:4]) == ["store", "timestamp", "step", "sales"]
    for sid, (_, _, rows) in ramps.items():  # each series: the days after its own last one
        mine = fc[fc["store"] == sid]
        first = pd.Timestamp("2020-01-01") + pd.Timedelta(days=rows)
        assert list(mine["timestamp"]) == list(pd.date_range(first, periods=HORIZON))

    stored = _bounds_in_db(state)  # every series, step and level, as the forecast file has
    levels = ("80", "95")
    assert len(stored) == 3 * HORIZON * len(levels)
    for lv in levels:
        at = stored[stored["level"] == float(lv)]
        np.testing.assert_array_equal(at["lower"], fc[f"sales_lower_{lv}"])
        np.testing.assert_array_equal(at["upper"], fc[f"sales_upper_{lv}"])

    # The actuals of the forecast days arrive: the forecast plus known errors.
    errors = np.tile([0.0, 1.0, -2.0, 5.0], 3)
    actual = fc["sales"].to_numpy() + errors
    arrived = pd.DataFrame({"store": fc["store"], "date": fc["timestamp"], "sales": actual})
    arrived.to_csv(tmp_path / "data.csv", mode="a", header=False, index=False,
                   date_format="%Y-%m-%d")
    proc = run_forecast("batch", batch, "--json")
    assert (proc.returncode, proc.stderr) == (0, "")
    (summary,) = json.loads(proc.stdout)["jobs"]
    latest = runs(state, "stores")[0]
    assert (latest["status"], latest["retrained"]) == ("ok", 0)
    (row,) = history_json(batch)["accuracy"]
    (realised,) = summary["metrics"]["realised"]  # what this run scored, as history has it
    assert {k: realised[k] for k in ("points", "mae", "coverage", "series")} == {
        k: row[k] for k in ("points", "mae", "coverage", "series")}
    assert row["points"] == 3 * HORIZON
    assert row["mae"] == pytest.approx(np.mean(np.abs(errors)), abs=1e-9)
    assert row["coverage"] == _by_hand(fc, actual, levels)
    per = {s["series"]: s for s in row["series"]}
    assert sorted(per) == ["a", "b", "c"]
    for sid, (slope, _, _) in ramps.items():
        mine = (fc["store"] == sid).to_numpy()
        mae = float(np.mean(np.abs(errors[mine])))
        # MASE: seasonal-naive (7 days) MAE of the ramp before the forecast: 7 · slope
        assert per[sid]["points"] == HORIZON
        assert per[sid]["mae"] == pytest.approx(mae, abs=1e-9)
        assert per[sid]["mase"] == pytest.approx(mae / (7 * slope), abs=1e-9)
        assert per[sid]["coverage"] == _by_hand(fc[mine], actual[mine], levels)
    table = run_forecast("history", batch)
    assert table.returncode == 0, table.stderr
    assert "series" in table.stdout

    # A retrained model is compared with the current one on the same windows, per series.
    retrain = write_batch(tmp_path / "batch.toml", {"stores": JOB},
                          {**TINY_JOB, **SPLIT, "id_col": "store", "seed": 8})
    _ok(retrain)
    third = runs(state, "stores")[0]
    assert (third["status"], third["retrained"], third["reason"]) == (
        "ok", 1, "training settings changed")
    assert isinstance(third["champion_mae"], float)  # not None: the champion was scored
    assert np.isfinite(third["champion_mae"])


def test_fill_drop_job_retrains_against_its_champion(tmp_path: Path) -> None:
    values = 10 + 0.1 * np.arange(120) + np.sin(2 * np.pi * np.arange(120) / 7)
    frame = pd.DataFrame({"timestamp": pd.date_range("2020-01-01", periods=120),
                          "value": values})
    frame.loc[100, "value"] = np.nan  # in the test period: its windows are kept out
    frame.to_csv(tmp_path / "data.csv", index=False)
    settings: dict[str, Any] = {**TINY_JOB, **SPLIT, "fill": "drop"}
    _ok(write_batch(tmp_path / "batch.toml", {"d": JOB}, settings))
    _ok(write_batch(tmp_path / "batch.toml", {"d": JOB}, {**settings, "seed": 8}))
    second = runs(tmp_path / ".forecast-state", "d")[0]
    assert (second["status"], second["retrained"]) == ("ok", 1)
    assert isinstance(second["champion_mae"], float)  # not None: the champion was scored
    assert np.isfinite(second["champion_mae"])
    assert [r["status"] for r in runs(tmp_path / ".forecast-state", "d")] == ["ok", "ok"]
