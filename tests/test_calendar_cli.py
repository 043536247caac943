"""``--calendar`` end to end through the real CLI: the calendar of the forecast horizon is a
second network input, recorded in the bundle, exported to ONNX and fed by both engines.

The forecasts compared with the library's are made by ``forecast predict`` subprocesses; the
trainings and the refusal run the same CLI in this process (``cli_helpers.run_cli``)."""

from __future__ import annotations

import json
from dataclasses import replace
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast_cli.errors import BundleError
from tests.cli_helpers import run_cli
from tests.conftest import SINGLE, run_forecast

ARGS = ("--lookback", "8", "--horizon", "4", "--lstm-units", "4", "--epochs", "1",
        "--batch-size", "32", "--patience", "1", "--seed", "7", "-q", *SINGLE)
HOURLY = ["cal_hour_sin", "cal_hour_cos", "cal_weekday_sin", "cal_weekday_cos", "cal_year_sin",
          "cal_year_cos"]


def _hourly(path: Path, n: int = 150) -> Path:
    """n hourly rows from 2024-01-01 00:00: a daily cycle plus seeded noise."""
    stamps = pd.date_range("2024-01-01", periods=n, freq="h")
    noise = np.random.default_rng(0).standard_normal(n)
    pd.DataFrame({"timestamp": stamps,
                  "y": 10 + np.sin(2 * np.pi * stamps.hour / 24) + 0.1 * noise}).to_csv(
                      path, index=False)
    return path


@pytest.fixture(scope="module")
def hourly(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(data, bundle) of a tiny calendar model on hourly data."""
    root = tmp_path_factory.mktemp("calendar")
    data = _hourly(root / "hourly.csv")
    proc = run_cli("train", data, "--target", "y", "--calendar", "-o", root / "run", *ARGS)
    assert proc.returncode == 0, proc.stderr
    return data, root / "run" / "model"


def test_bundle_records_the_future_inputs(hourly: tuple[Path, Path]) -> None:
    config = json.loads((hourly[1] / "config.json").read_text())
    assert config["network"]["n_future"] == 6
    assert config["data"]["inputs"] == ["y", *HOURLY]
    assert "model.onnx" in json.loads((hourly[1] / "manifest.json").read_text())["files"]


def _engines_agree(bundle: Path, data: Path) -> pd.DataFrame:
    """`forecast predict` (default engine: ONNX Runtime) in a subprocess, exit 0; the library's
    predict through Keras and through ONNX Runtime agree with it within 1e-5."""
    from forecast_cli.pipeline.forecasting import predict, rounded_table

    proc = run_forecast("predict", "--model", bundle, data)
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(StringIO(proc.stdout))
    keras = predict(bundle, data, engine="keras").table
    by_onnx = predict(bundle, data, engine="onnx")
    onnx = by_onnx.table
    assert len(table) == len(keras) == len(onnx)
    assert np.max(np.abs(keras["y"].to_numpy() - onnx["y"].to_numpy())) <= 1e-5
    # the CLI writes the same forecast to the bundle's precision (the data's decimals + 3)
    np.testing.assert_array_equal(table["y"], rounded_table(by_onnx)["y"])
    assert np.isfinite(table["y"]).all()
    return table


def test_predict_single_series_with_both_engines(hourly: tuple[Path, Path]) -> None:
    """150 rows end at 2024-01-07 05:00: the forecast covers 06:00 … 09:00."""
    table = _engines_agree(hourly[1], hourly[0])
    assert list(table["timestamp"]) == [f"2024-01-07T{h:02d}:00:00" for h in (6, 7, 8, 9)]
    assert list(table["step"]) == [1, 2, 3, 4]


def test_data_of_another_frequency_is_refused(hourly: tuple[Path, Path], tmp_path: Path) -> None:
    daily = pd.DataFrame({"timestamp": pd.date_range("2024-01-01", periods=30, freq="D"),
                          "y": np.arange(30.0)})
    daily.to_csv(tmp_path / "daily.csv", index=False)
    proc = run_cli("predict", "--model", hourly[1], tmp_path / "daily.csv")
    assert proc.returncode == 65
    assert "calendar inputs" in proc.stderr
    assert "another frequency" in proc.stderr
    assert proc.stdout == ""


def test_engines_need_the_future_block(hourly: tuple[Path, Path]) -> None:
    """In-process: the horizon's calendar goes to both engines, which refuse a missing or
    mis-shaped block; a bundle whose settings cannot produce it is refused."""
    from forecast_cli.model.bundle import read_bundle
    from forecast_cli.model.onnx_engine import OnnxNetwork
    from forecast_cli.pipeline.forecasting import future_inputs, run_network

    b = read_bundle(hourly[1])
    future = future_inputs(b, [pd.Timestamp("2024-01-07 05:00")])
    assert future is not None
    assert future.shape == (1, 4, 6)
    np.testing.assert_allclose(future[0, :, 0], np.sin(2 * np.pi * np.arange(6, 10) / 24))
    x = np.zeros((1, 8, 7))
    assert b.onnx is not None
    with pytest.raises(BundleError, match=r"expects future inputs of shape \(1, 4, 6\); got none"):
        OnnxNetwork(b.onnx).predict(x)
    with pytest.raises(BundleError, match="takes 6 known-future inputs per step; 0 were given"):
        run_network(b, x, "onnx")
    no_calendar = replace(b, settings={**b.settings, "calendar": False})
    with pytest.raises(BundleError, match="the bundle is inconsistent"):
        future_inputs(no_calendar, [pd.Timestamp("2024-01-07 05:00")])
    assert run_network(b, x, "onnx", future).shape == (1, 4, 1)


def test_many_series_with_calendar_train_and_predict(tmp_path: Path) -> None:
    """Two daily series of different lengths: each gets the calendar of its own horizon."""
    parts = []
    for sid, n, start in (("a", 70, "2024-01-01"), ("b", 60, "2024-01-05")):
        stamps = pd.date_range(start, periods=n, freq="D")
        parts.append(pd.DataFrame({"id": sid, "day": stamps,
                                   "y": 10 + 3 * (stamps.day_of_week >= 5)}))
    data = tmp_path / "panel.csv"
    pd.concat(parts).to_csv(data, index=False)
    trained = run_cli("train", data, "--id-col", "id", "--target", "y", "--calendar",
                      "-o", tmp_path / "run", *ARGS)
    assert trained.returncode == 0, trained.stderr
    config = json.loads((tmp_path / "run" / "model" / "config.json").read_text())
    assert config["network"]["n_future"] == 4  # daily: weekday and year pairs
    table = _engines_agree(tmp_path / "run" / "model", data)
    assert list(table["id"]) == ["a"] * 4 + ["b"] * 4
    assert list(table["timestamp"]) == [f"2024-03-{d:02d}T00:00:00" for d in (11, 12, 13, 14)] \
        + [f"2024-03-{d:02d}T00:00:00" for d in (5, 6, 7, 8)]
    assert np.isfinite(table["y"]).all()
