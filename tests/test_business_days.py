"""Weekday-only daily data (trading days): a business-day frequency, holidays as gaps.

The CLI runs in this process (``cli_helpers.run_cli``; a real tiny training included): what is
tested is the frequency, the season and the calendar of the forecast, not the process."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tests.cli_helpers import run_cli
from tests.conftest import TINY_ARGS

HOLIDAYS = ("2024-01-15", "2024-02-19", "2024-03-29")


def _trading_days(path: Path) -> Path:
    days = pd.bdate_range("2024-01-01", "2024-05-31")  # ends on a Friday
    days = days[~days.isin(pd.to_datetime(HOLIDAYS))]
    rng = np.random.default_rng(0)
    close = 100 + np.cumsum(rng.normal(size=len(days))) + np.sin(np.arange(len(days)))
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "close": close.round(2)}).to_csv(
        path, index=False)
    return path


def test_weekday_data_is_business_daily_with_holidays_as_gaps(tmp_path: Path) -> None:
    data = _trading_days(tmp_path / "stock.csv")
    refused = run_cli("validate", data, "--json")
    assert refused.returncode == 65  # the holidays are gaps, not the weekends
    report = json.loads(refused.stdout)
    assert report["freq"] == "B"
    assert [g["from"][:10] for g in report["series"][0]["gaps"]] == list(HOLIDAYS)
    filled = run_cli("validate", data, "--fill", "interpolate", "--json")
    assert filled.returncode == 0, filled.stderr


def _train_and_predict(data: Path, tmp_path: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """Tiny `train` then `predict` (both with --fill interpolate): the bundle's config.json
    and the forecast table."""
    trained = run_cli("train", data, *TINY_ARGS, "--fill", "interpolate", "-o",
                      tmp_path / "run", "--quiet")
    assert trained.returncode == 0, trained.stderr
    config = json.loads((tmp_path / "run" / "model" / "config.json").read_text())
    result = run_cli("predict", "--model", tmp_path / "run" / "model", data, "--fill",
                     "interpolate")
    assert result.returncode == 0, result.stderr
    return config, pd.read_csv(io.StringIO(result.stdout))


def test_business_days_are_forecast_on_weekdays_with_a_weekly_season(tmp_path: Path) -> None:
    data = _trading_days(tmp_path / "stock.csv")
    config, table = _train_and_predict(data, tmp_path)
    assert (config["data"]["freq"], config["data"]["season"]) == ("B", 5)
    assert list(table["timestamp"]) == ["2024-06-03T00:00:00", "2024-06-04T00:00:00",
                                        "2024-06-05T00:00:00", "2024-06-06T00:00:00"]


def _office(path: Path, hours: tuple[int, int] = (9, 16), missing: int | None = 100) -> Path:
    """Hourly weekday rows from ``hours[0]``:00 to ``hours[1]``:00, 2024-01-01 (a Monday) to
    2024-02-23 (a Friday), a sine of one business day; row ``missing`` left out."""
    hour = pd.date_range("2024-01-01", "2024-02-23 23:00", freq="h")
    hour = hour[(hour.day_of_week < 5) & (hour.hour >= hours[0]) & (hour.hour <= hours[1])]
    values = (10 + np.sin(np.arange(len(hour)) * 2 * np.pi / 8)).round(2)
    keep = np.arange(len(hour)) != missing
    pd.DataFrame({"time": hour[keep].strftime("%Y-%m-%d %H:%M"), "calls": values[keep]}).to_csv(
        path, index=False)
    return path


def test_office_hours_are_business_hours_forecast_after_the_weekend(tmp_path: Path) -> None:
    """Weekdays 09:00-16:00 hourly: pandas' business hours ("bh"), nights and weekends no gaps,
    the missing hour one; the forecast after Friday 16:00 starts Monday 09:00, season a day."""
    data = _office(tmp_path / "calls.csv")
    refused = run_cli("validate", data, "--json")
    assert refused.returncode == 65
    report = json.loads(refused.stdout)
    assert report["freq"] == "bh"
    assert [(g["from"], g["steps"]) for g in report["series"][0]["gaps"]] == [
        ("2024-01-17 13:00:00", 1)]  # row 100 = business day 12 (Wed 17th) × 8 h + 4 h
    config, table = _train_and_predict(data, tmp_path)
    assert (config["data"]["freq"], config["data"]["season"]) == ("bh", 8)
    assert list(table["timestamp"]) == [f"2024-02-26T{h:02d}:00:00" for h in (9, 10, 11, 12)]


def test_other_office_hours_are_refused_saying_why(tmp_path: Path) -> None:
    data = _office(tmp_path / "calls.csv", hours=(8, 17), missing=None)
    refused = run_cli("validate", data, "-q", env={"COLUMNS": "250"})
    assert refused.returncode == 65
    assert ("Fix: the rows lie on weekdays from 08:00 to 17:00 only (office hours, times as "
            "stored, UTC for zoned data): pandas' business-hour frequency covers hours "
            "starting 09:00 to 16:00 only") in refused.stderr
