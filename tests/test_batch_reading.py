"""`forecast batch` reads a job's data as `forecast train --config` does: every reading setting
(separators, decimal commas, day-first dates, time zones, fills, many series), for training,
forecasting and the realised accuracy. Real CSVs, real tiny trainings, the CLI in
subprocesses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast_cli.data.frame import load_csv
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
                "fill": "interpolate"}
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
    forecast = pd.read_csv(tmp_path / "out" / "tz.csv", parse_dates=["timestamp"])
    # the model works in UTC (as `forecast predict` writes it): the hours after 05:00 UTC
    # (07:00 in Berlin, summer time) of 31 March
    expected = [utc[-1] + pd.Timedelta(hours=h) for h in range(1, HORIZON + 1)]
    assert list(forecast["timestamp"]) == expected
    assert str(expected[0]) == "2021-03-31 06:00:00"

    # The actuals arrive in Berlin wall time: scored against the right hours, MAE by hand.
    errors = np.array([0.5, -1.0, 1.5, -2.0])
    later = pd.DatetimeIndex(expected).tz_localize("UTC").tz_convert("Europe/Berlin")
    more = pd.DataFrame({"time": later.tz_localize(None).strftime("%Y-%m-%d %H:%M"),
                         "load": forecast["load"].to_numpy() + errors})
    more.to_csv(tmp_path / "data.csv", mode="a", header=False, index=False)
    _ok(batch)
    (row,) = history_json(batch)["accuracy"]
    assert (row["origin"], row["points"]) == ("2021-03-31T05:00:00", HORIZON)
    assert row["mae"] == pytest.approx(np.mean(np.abs(errors)), abs=1e-9)
