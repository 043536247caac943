"""`forecast batch` reads a job's data as `forecast train --config` does: every reading setting
(separators, decimal commas, day-first dates, time zones, fills, many series), for training,
forecasting and the realised accuracy. Real CSVs, real tiny trainings, the CLI in
subprocesses.

The four jobs (eu, tz, stores, d) are one batch file, run three times by one module fixture
(``batches``): its first run trains all four, in one job worker; before the second the actuals
of tz's and stores' forecasts arrive (scored and forecast again, nothing trained: no
TensorFlow); before the third d's and stores' seeds change (each retrained against its
champion, in one job worker). A copy of the directory after each run is what the tests read,
so each checks the run it is about.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from forecast_cli.data.frame import load_csv
from forecast_cli.model.bundle import read_bundle
from tests.batch_helpers import TINY_JOB, history_json, runs, write_batch, write_config
from tests.cli_helpers import run_cli
from tests.conftest import run_forecast

HORIZON = TINY_JOB["horizon"]
SPLIT = {"train_frac": 0.5, "val_frac": 0.2, "test_frac": 0.3}


def _job(name: str, **settings: Any) -> dict[str, Any]:
    """A job table on NAME.csv, forecasting into out/NAME.csv, with its own settings."""
    return {"data": f"{name}.csv", "output": "out/{job}.csv", **settings}


def _german(value: float) -> str:
    """1234.5 → "1.234,50": thousands '.', decimal ','."""
    return f"{value:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")


# --- eu: a European export (';', decimal commas, '.' thousands, day-first dates, one gap) ---
EU_ROWS, EU_GAP = 120, 50
# multiples of 0.25: exact in binary, so every number below is exact, the mean included
EU_VALUES = np.round(4 * (1000 + 12.5 * np.arange(EU_ROWS)
                          + 50 * np.sin(2 * np.pi * np.arange(EU_ROWS) / 7))) / 4
EU_DAYS = pd.date_range("2020-01-01", periods=EU_ROWS, freq="D")
EU_SETTINGS = {"sep": ";", "decimal": ",", "thousands": ".", "dayfirst": True,
               "fill": "interpolate", "precision": 1}  # the data has 2: by default 5


def _write_eu(path: Path) -> None:
    lines = ["Datum;Umsatz"] + [f"{d:%d/%m/%Y};{'' if i == EU_GAP else _german(v)}"
                                for i, (d, v) in enumerate(zip(EU_DAYS, EU_VALUES, strict=True))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- tz: local Berlin wall times across the spring-forward night -----------------------------
# 02:00 on 28 March 2021 does not exist, so read without the zone the file has a missing hour
# and is refused.
TZ_UTC = pd.date_range("2021-03-25 00:00", periods=150, freq="h")
TZ_ERRORS = np.array([0.5, -1.0, 1.5, -2.0])  # of the actuals that arrive after run 1


def _write_tz(path: Path) -> None:
    wall = TZ_UTC.tz_localize("UTC").tz_convert("Europe/Berlin").tz_localize(None)
    values = 10 + 0.1 * np.arange(150) + np.sin(2 * np.pi * np.arange(150) / 24)
    pd.DataFrame({"time": wall.strftime("%Y-%m-%d %H:%M"), "load": values}).to_csv(
        path, index=False)


def _tz_hours() -> pd.DatetimeIndex:
    """The hours after the last row, in Berlin time."""
    expected = [TZ_UTC[-1] + pd.Timedelta(hours=h) for h in range(1, HORIZON + 1)]
    return pd.DatetimeIndex(expected).tz_localize("UTC").tz_convert("Europe/Berlin")


# --- stores: three ramps in one long file (id_col) --------------------------------------------
RAMPS = {"a": (1.0, 0.0, 120), "b": (2.0, 50.0, 120), "c": (0.5, 10.0, 117)}
STORE_ERRORS = np.tile([0.0, 1.0, -2.0, 5.0], 3)  # of the actuals that arrive after run 1
LEVELS = ("80", "95")


def _long_file(path: Path, series: dict[str, tuple[float, float, int]]) -> None:
    """Ramps ``offset + slope · day`` of ``rows`` days from 2020-01-01, one per store."""
    parts = [pd.DataFrame({"store": sid, "date": pd.date_range("2020-01-01", periods=rows),
                           "sales": offset + slope * np.arange(rows)})
             for sid, (slope, offset, rows) in series.items()]
    pd.concat(parts).to_csv(path, index=False, date_format="%Y-%m-%d")


# --- d: a missing value in the test period, fill = drop ---------------------------------------
def _write_d(path: Path) -> None:
    values = 10 + 0.1 * np.arange(120) + np.sin(2 * np.pi * np.arange(120) / 7)
    frame = pd.DataFrame({"timestamp": pd.date_range("2020-01-01", periods=120),
                          "value": values})
    frame.loc[100, "value"] = np.nan  # in the test period: its windows are kept out
    frame.to_csv(path, index=False)


def _jobs(d_seed: int = 7, stores_seed: int = 7) -> dict[str, dict[str, Any]]:
    return {"eu": _job("eu", **EU_SETTINGS),
            "tz": _job("tz", tz="Europe/Berlin"),
            "stores": _job("stores", **SPLIT, id_col="store", seed=stores_seed),
            "d": _job("d", **SPLIT, fill="drop", seed=d_seed)}


@dataclass(frozen=True)
class Batches:
    """The batch directory after each of its three runs (copies), and each run's process."""

    first: Path
    second: Path
    third: Path
    procs: tuple[subprocess.CompletedProcess[str], ...]


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = run_forecast("batch", root / "batch.toml", *args)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> Batches:
    tmp = tmp_path_factory.mktemp("reading")
    root = tmp / "live"
    root.mkdir()
    _write_eu(root / "eu.csv")
    _write_tz(root / "tz.csv")
    _long_file(root / "stores.csv", RAMPS)
    _write_d(root / "d.csv")
    write_batch(root / "batch.toml", _jobs(), TINY_JOB)
    first = _run(root)
    shutil.copytree(root, tmp / "first")

    # The actuals of tz's and stores' forecasts arrive (the forecasts plus known errors), in
    # the files' own formats.
    tz_fc = pd.read_csv(root / "out" / "tz.csv", dtype={"timestamp": str})
    pd.DataFrame({"time": _tz_hours().tz_localize(None).strftime("%Y-%m-%d %H:%M"),
                  "load": tz_fc["load"].to_numpy() + TZ_ERRORS}).to_csv(
        root / "tz.csv", mode="a", header=False, index=False)
    fc = pd.read_csv(root / "out" / "stores.csv", parse_dates=["timestamp"])
    pd.DataFrame({"store": fc["store"], "date": fc["timestamp"],
                  "sales": fc["sales"].to_numpy() + STORE_ERRORS}).to_csv(
        root / "stores.csv", mode="a", header=False, index=False, date_format="%Y-%m-%d")
    second = _run(root, "--json")
    shutil.copytree(root, tmp / "second")

    # Retrained d and stores models are compared with the current ones (stores': per series).
    write_batch(root / "batch.toml", _jobs(d_seed=8, stores_seed=8), TINY_JOB)
    third = _run(root)
    return Batches(tmp / "first", tmp / "second", root, (first, second, third))


def test_runs_that_succeed_print_nothing(batches: Batches) -> None:
    first, second, third = batches.procs
    assert (first.stdout, first.stderr) == ("", "")
    assert (third.stdout, third.stderr) == ("", "")
    assert second.stderr == ""
    assert sorted(j["job"] for j in json.loads(second.stdout)["jobs"]) == [
        "d", "eu", "stores", "tz"]


def test_european_csv_job_forecasts_what_train_and_predict_give(batches: Batches,
                                                                 tmp_path: Path) -> None:
    root = batches.first
    # The numbers a person reads in the file, the gap interpolated by hand, as a plain CSV.
    plain = EU_VALUES.copy()
    plain[EU_GAP] = (EU_VALUES[EU_GAP - 1] + EU_VALUES[EU_GAP + 1]) / 2
    pd.DataFrame({"Datum": EU_DAYS, "Umsatz": plain}).to_csv(tmp_path / "plain.csv", index=False)
    (run,) = runs(root / ".forecast-state", "eu")
    assert (run["status"], run["rows"]) == ("ok", EU_ROWS)
    assert run["data_fingerprint"] == load_csv(tmp_path / "plain.csv").fingerprint()

    config = write_config(tmp_path / "same.toml", {**TINY_JOB, **EU_SETTINGS})
    data = root / "eu.csv"
    # the CLI in this process: the same bytes as the batch's job worker, without a second
    # TensorFlow start-up (the batch itself is the subprocess here)
    trained = run_cli("train", data, "--config", config, "-o", tmp_path / "cli", "--quiet")
    assert trained.returncode == 0, trained.stderr
    predicted = run_cli("predict", data, "--model", tmp_path / "cli" / "model")
    assert predicted.returncode == 0, predicted.stderr
    batch_text = (root / "out" / "eu.csv").read_text()
    assert batch_text == predicted.stdout
    forecast = pd.read_csv(root / "out" / "eu.csv", parse_dates=["timestamp"])
    assert list(forecast["timestamp"]) == list(pd.date_range("2020-04-30", periods=HORIZON))
    assert {"Umsatz_lower_80", "Umsatz_upper_95"} <= set(forecast.columns)
    cells = [c for line in batch_text.splitlines()[1:] for c in line.split(",")[2:]]
    assert max(len(c.partition(".")[2]) for c in cells) == 1  # `precision` of job and config


def test_tz_job_forecasts_and_scores_the_hours_after_the_last_row(batches: Batches) -> None:
    forecast = pd.read_csv(batches.first / "out" / "tz.csv", dtype={"timestamp": str})
    # the model works in UTC, the forecast is written in the data's zone (as `forecast predict`
    # writes it): the hours after 05:00 UTC (07:00 in Berlin, summer time) of 31 March
    assert list(forecast["timestamp"]) == [t.isoformat() for t in _tz_hours()]
    assert forecast["timestamp"].iloc[0] == "2021-03-31T08:00:00+02:00"

    # The actuals arrived in Berlin wall time: scored against the right hours, MAE by hand.
    (row,) = history_json(batches.second / "batch.toml", "--job", "tz")["accuracy"]
    # the history keeps the model's own (UTC) origin
    assert (row["origin"], row["points"]) == ("2021-03-31T05:00:00", HORIZON)
    assert row["mae"] == pytest.approx(np.mean(np.abs(TZ_ERRORS)), abs=1e-9)
    assert set(row["coverage"] or {}) == {"80", "95"}  # the model's interval levels
    assert runs(batches.second / ".forecast-state", "tz")[0]["retrained"] == 0


def _bounds_in_db(state: Path, job: str) -> pd.DataFrame:
    with sqlite3.connect(state / "history.sqlite") as conn:
        return pd.read_sql("SELECT series, timestamp, level, lower, upper FROM forecast_bounds "
                           "WHERE job = ? ORDER BY series, timestamp, level", conn,
                           params=(job,))


def _by_hand(fc: pd.DataFrame, actual: np.ndarray, levels: tuple[str, ...]
             ) -> dict[str, float]:
    return {lv: float(np.mean((fc[f"sales_lower_{lv}"] <= actual)
                              & (actual <= fc[f"sales_upper_{lv}"]))) for lv in levels}


def test_id_col_job_trains_one_model_and_scores_every_series(batches: Batches) -> None:
    root = batches.first
    assert (root / "models" / "stores" / "current").read_text() == "v0001\n"
    bundle = read_bundle(root / "models" / "stores" / "versions" / "v0001" / "model")
    assert bundle.schema.panel is not None
    assert sorted(bundle.schema.panel["series"]) == ["a", "b", "c"]
    fc = pd.read_csv(root / "out" / "stores.csv", parse_dates=["timestamp"])
    assert list(fc.columns[:4]) == ["store", "timestamp", "step", "sales"]
    for sid, (_, _, rows) in RAMPS.items():  # each series: the days after its own last one
        mine = fc[fc["store"] == sid]
        first = pd.Timestamp("2020-01-01") + pd.Timedelta(days=rows)
        assert list(mine["timestamp"]) == list(pd.date_range(first, periods=HORIZON))

    stored = _bounds_in_db(root / ".forecast-state", "stores")  # every series, step and
    assert len(stored) == 3 * HORIZON * len(LEVELS)  # level, as the forecast file has
    for lv in LEVELS:
        at = stored[stored["level"] == float(lv)]
        np.testing.assert_array_equal(at["lower"], fc[f"sales_lower_{lv}"])
        np.testing.assert_array_equal(at["upper"], fc[f"sales_upper_{lv}"])

    # The actuals of the forecast days arrived (the forecast plus known errors): run 2.
    actual = fc["sales"].to_numpy() + STORE_ERRORS
    state = batches.second / ".forecast-state"
    summary = {j["job"]: j for j in json.loads(batches.procs[1].stdout)["jobs"]}["stores"]
    latest = runs(state, "stores")[0]
    assert (latest["status"], latest["retrained"]) == ("ok", 0)
    (row,) = history_json(batches.second / "batch.toml", "--job", "stores")["accuracy"]
    (realised,) = summary["metrics"]["realised"]  # what this run scored, as history has it
    assert {k: realised[k] for k in ("points", "mae", "coverage", "series")} == {
        k: row[k] for k in ("points", "mae", "coverage", "series")}
    assert row["points"] == 3 * HORIZON
    assert row["mae"] == pytest.approx(np.mean(np.abs(STORE_ERRORS)), abs=1e-9)
    assert row["coverage"] == _by_hand(fc, actual, LEVELS)
    per = {s["series"]: s for s in row["series"]}
    assert sorted(per) == ["a", "b", "c"]
    for sid, (slope, _, _) in RAMPS.items():
        mine = (fc["store"] == sid).to_numpy()
        mae = float(np.mean(np.abs(STORE_ERRORS[mine])))
        # MASE: seasonal-naive (7 days) MAE of the ramp before the forecast: 7 · slope
        assert per[sid]["points"] == HORIZON
        assert per[sid]["mae"] == pytest.approx(mae, abs=1e-9)
        assert per[sid]["mase"] == pytest.approx(mae / (7 * slope), abs=1e-9)
        assert per[sid]["coverage"] == _by_hand(fc[mine], actual[mine], LEVELS)
    table = run_forecast("history", batches.second / "batch.toml", "--job", "stores")
    assert table.returncode == 0, table.stderr
    assert "series" in table.stdout

    # Run 3: a retrained model is compared with the current one on the same windows, per
    # series.
    third = runs(batches.third / ".forecast-state", "stores")[0]
    assert (third["status"], third["retrained"], third["reason"]) == (
        "ok", 1, "training settings changed")
    assert isinstance(third["champion_mae"], float)  # not None: the champion was scored
    assert np.isfinite(third["champion_mae"])


def test_fill_drop_job_retrains_against_its_champion(batches: Batches) -> None:
    state = batches.third / ".forecast-state"
    third = runs(state, "d")[0]
    assert (third["status"], third["retrained"]) == ("ok", 1)
    assert isinstance(third["champion_mae"], float)  # not None: the champion was scored
    assert np.isfinite(third["champion_mae"])
    assert [r["status"] for r in runs(state, "d")] == ["ok", "ok", "ok"]
    assert runs(batches.second / ".forecast-state", "d")[0]["retrained"] == 0  # unchanged
