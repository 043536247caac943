"""Realised accuracy in-process, without TensorFlow: forecast tables with interval bounds per
level, many series, missing actuals, and the upgrade of an older history database."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from forecast_cli.data.frame import Frame
from forecast_cli.ops import accuracy, history

ORIGIN = "2024-01-10T00:00:00"


def _panel(series: dict[str, np.ndarray]) -> Frame:
    """Daily series from 2024-01-01 stacked in one frame, as ``load_csv`` with id_col gives."""
    stamps, values, starts = [], [], [0]
    for v in series.values():
        stamps.append(pd.date_range("2024-01-01", periods=len(v), freq="D"))
        values.append(v)
        starts.append(starts[-1] + len(v))
    n = starts[-1]
    return Frame(path=Path("x.csv"), time_col="date", columns=("sales",),
                 timestamps=stamps[0].append(stamps[1:]),
                 values=np.concatenate(values).reshape(-1, 1), freq="D",
                 line_numbers=np.arange(n), id_col="store", series_ids=tuple(series),
                 series_starts=np.asarray(starts))


def test_forecast_points_store_every_level_and_series() -> None:
    table = pd.DataFrame({
        "store": ["a", "a", "b", "b"],
        "timestamp": pd.to_datetime(["2024-01-11", "2024-01-12"] * 2),
        "step": [1, 2, 1, 2], "sales": [10.0, 11.0, 20.0, 21.0],
        "sales_lower_80": [9.0, 10.0, 19.0, np.nan], "sales_upper_80": [11.0, 12.0, 21.0, 22.0],
        "sales_lower_97.5": [8.0, 9.0, -np.inf, 19.0],
        "sales_upper_97.5": [12.0, 13.0, np.inf, 23.0]})
    points, bounds = accuracy.forecast_points(table, ["sales"], (80.0, 97.5), "store")
    assert points == [("a", "2024-01-11T00:00:00", 1, "sales", 10.0),
                      ("a", "2024-01-12T00:00:00", 2, "sales", 11.0),
                      ("b", "2024-01-11T00:00:00", 1, "sales", 20.0),
                      ("b", "2024-01-12T00:00:00", 2, "sales", 21.0)]
    # the NaN bound of b's second step is not stored; an infinite one is
    assert bounds == [("a", "2024-01-11T00:00:00", "sales", 80.0, 9.0, 11.0),
                      ("a", "2024-01-12T00:00:00", "sales", 80.0, 10.0, 12.0),
                      ("b", "2024-01-11T00:00:00", "sales", 80.0, 19.0, 21.0),
                      ("a", "2024-01-11T00:00:00", "sales", 97.5, 8.0, 12.0),
                      ("a", "2024-01-12T00:00:00", "sales", 97.5, 9.0, 13.0),
                      ("b", "2024-01-11T00:00:00", "sales", 97.5, -math.inf, math.inf),
                      ("b", "2024-01-12T00:00:00", "sales", 97.5, 19.0, 23.0)]
    single, none = accuracy.forecast_points(table.drop(columns="store"), ["sales"])
    assert {p[0] for p in single} == {""}
    assert none == []


def _points(store: str, values: list[float], start: int = 11) -> list[dict[str, Any]]:
    return [{"series": store, "timestamp": f"2024-01-{start + i:02d}T00:00:00", "step": i + 1,
             "target": "sales", "value": v} for i, v in enumerate(values)]


def _bounds(points: list[dict[str, Any]], level: float, width: float) -> list[dict[str, Any]]:
    return [{"series": p["series"], "timestamp": p["timestamp"], "target": "sales",
             "level": level, "lower": p["value"] - width, "upper": p["value"] + width}
            for p in points]


def test_many_series_are_scored_each_against_its_own_history() -> None:
    # a: ramp of slope 1 over 12 days; b: slope 3, but it ended on day 8 at forecast time
    # (its forecast starts on the 9th), so days 9 and 10 are actuals, not history.
    frame = _panel({"a": np.arange(12.0), "b": 3.0 * np.arange(10.0)})
    points = _points("a", [10.0 + 1, 11.0 - 2]) + _points("b", [24.0 + 4, 27.0], start=9)
    bounds = _bounds(points, 80.0, 1.5) + _bounds(points, 95.0, 3.0)
    realised = accuracy.score_forecast(points, bounds, ORIGIN, frame, 7)
    assert realised is not None
    a, b = realised.series["a"], realised.series["b"]
    # a: errors 1, 2; seasonal-naive scale 7 · 1 (its 10 rows before the 11th)
    assert (a.points, a.mae, a.mase) == (2, 1.5, pytest.approx(1.5 / 7))
    # b: errors 4, 0; its 8 rows before the 9th: scale 7 · 3
    assert (b.points, b.mae, b.mase) == (2, 2.0, pytest.approx(2.0 / 21))
    # |errors| 1, 2, 4, 0 against half-widths 1.5 (80 %) and 3 (95 %)
    assert a.coverage == {80.0: (1, 2), 95.0: (2, 2)}
    assert b.coverage == {80.0: (1, 2), 95.0: (1, 2)}
    overall = realised.overall
    assert (overall.points, overall.mae) == (4, 1.75)
    assert overall.mase == pytest.approx((1.5 / 7 + 2.0 / 21) / 2)
    assert overall.coverage == {80.0: (2, 4), 95.0: (3, 4)}
    assert realised.to_json()["coverage"] == {"80": 0.5, "95": 0.75}
    assert [(s["series"], s["coverage"]) for s in realised.to_json()["series"]] == [
        ("a", {"80": 0.5, "95": 1.0}), ("b", {"80": 0.5, "95": 0.5})]
    # a series whose actual has not arrived keeps the whole forecast waiting
    late = points + _points("b", [30.0], start=11)
    assert accuracy.score_forecast(late, bounds, ORIGIN, frame, 7) is None


def test_a_missing_actual_is_left_out() -> None:
    values = np.arange(14.0)
    values[11] = np.nan  # kept out with fill = "drop"
    frame = Frame(path=Path("x.csv"), time_col="date", columns=("sales",),
                  timestamps=pd.date_range("2024-01-01", periods=14, freq="D"),
                  values=values.reshape(-1, 1), freq="D", line_numbers=np.arange(14))
    points = _points("", [10.0 + 2, 11.0, 12.0 - 1])  # days 11, 12 (missing), 13
    realised = accuracy.score_forecast(points, _bounds(points, 80.0, 1.5), ORIGIN, frame, 7)
    assert realised is not None
    assert (realised.overall.points, realised.overall.mae) == (2, 1.5)
    assert realised.overall.coverage == {80.0: (1, 2)}


LAYOUT_0 = """
CREATE TABLE forecasts (
  job TEXT NOT NULL, model_version TEXT NOT NULL, origin TEXT NOT NULL, run_id INTEGER,
  timestamp TEXT NOT NULL, step INTEGER NOT NULL, target TEXT NOT NULL, value REAL NOT NULL,
  lower REAL, upper REAL, PRIMARY KEY (job, model_version, origin, timestamp, target));
CREATE TABLE accuracy (
  id INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL, model_version TEXT NOT NULL,
  origin TEXT NOT NULL, forecast_run_id INTEGER, scored_run_id INTEGER, scored_at TEXT,
  points INTEGER, mae REAL, mase REAL, coverage REAL,
  UNIQUE (job, model_version, origin));
INSERT INTO forecasts VALUES ('j', 'v0001', '2024-01-01T00:00:00', 1, '2024-01-02T00:00:00',
  1, 'value', 5.0, NULL, NULL);
INSERT INTO forecasts VALUES ('j', 'v0001', '2024-01-09T00:00:00', 2, '2024-01-10T00:00:00',
  1, 'value', 6.0, NULL, NULL);
INSERT INTO accuracy (job, model_version, origin, forecast_run_id, scored_run_id, scored_at,
  points, mae, mase, coverage) VALUES ('j', 'v0001', '2024-01-01T00:00:00', 1, 2,
  '2024-01-02T03:04:05+00:00', 1, 0.5, 0.25, NULL);
"""


def test_an_older_history_is_upgraded_keeping_its_rows(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / history.DB_FILE) as conn:
        conn.executescript(LAYOUT_0)
    with history.opened(tmp_path) as h:
        ((version, origin, run, points, bounds),) = list(h.unscored("j"))
        assert (version, origin, run, bounds) == ("v0001", "2024-01-09T00:00:00", 2, [])
        assert points == [{"series": "", "timestamp": "2024-01-10T00:00:00", "step": 1,
                           "target": "value", "value": 6.0}]
        (old,) = h.accuracy("j")
        assert (old["origin"], old["mae"], old["mase"], old["coverage"], old["series"]) == (
            "2024-01-01T00:00:00", 0.5, 0.25, None, [])
    with history.opened(tmp_path) as h:  # opening it again changes nothing
        assert len(h.accuracy("j")) == 1
    with sqlite3.connect(tmp_path / history.DB_FILE) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = "
                                             "'table'")}
        assert not {"forecasts_v0", "accuracy_v0"} & tables
