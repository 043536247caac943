"""Intervals, plots, evaluate and channel independence end to end through the real CLI.

Its predict and its evaluate run as subprocesses; the trainings and the refusals run the same
CLI in this process (``cli_helpers.run_cli``: the process is test_cli's subject)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.cli_helpers import run_cli
from tests.conftest import TINY_ARGS, assert_png, run_forecast, seasonal_series, write_series

HORIZON = 4  # from TINY_ARGS


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Train on the first 200 of 240 daily rows with three interval levels and a plot."""
    tmp = tmp_path_factory.mktemp("iv")
    values = seasonal_series(240)
    paths = {"train": write_series(tmp / "first200.csv", values[:200]),
             "full": write_series(tmp / "all240.csv", values), "out": tmp / "run",
             "png": tmp / "train.png"}
    res = run_cli("train", paths["train"], *TINY_ARGS, "--level", "80",
                  "--level", "90,95", "--output-dir", paths["out"], "--plot", paths["png"])
    assert res.returncode == 0, res.stderr
    assert "Prediction intervals" in res.stdout
    assert "95 %" in res.stdout
    return paths


def test_train_reports_coverage_and_stores_intervals(trained: dict[str, Path]) -> None:
    metrics = json.loads((trained["out"] / "metrics.json").read_text())
    test = metrics["intervals"]["test"]
    assert list(test) == ["80", "90", "95"]
    widths = [test[k]["mean_width"] for k in test]
    assert widths == sorted(widths)  # higher level, wider interval
    assert widths[0] > 0
    assert all(0 <= test[k]["coverage"] <= 100 for k in test)
    bundle = trained["out"] / "model"
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert "intervals.json" in manifest["files"]
    stored = json.loads((bundle / "intervals.json").read_text())
    assert stored["levels"] == [80.0, 90.0, 95.0]
    assert np.asarray(stored["half_widths"]).shape == (3, HORIZON, 1)
    table = pd.read_csv(trained["out"] / "test_forecasts.csv")
    assert (table["lower_80"] <= table["model"]).all()
    assert (table["upper_95"] >= table["upper_80"]).all()
    inside = (table["actual"] >= table["lower_80"]) & (table["actual"] <= table["upper_80"])
    assert inside.mean() * 100 == pytest.approx(test["80"]["coverage"])
    assert_png(trained["png"])


def test_predict_writes_bounds_at_the_stored_half_widths(trained: dict[str, Path],
                                                         tmp_path: Path) -> None:
    png = tmp_path / "predict.png"
    res = run_forecast("predict", "--model", trained["out"] / "model", trained["train"],
                       "--plot", png)
    assert res.returncode == 0, res.stderr
    fc = pd.read_csv(pd.io.common.StringIO(res.stdout))
    assert list(fc.columns) == ["timestamp", "step", "value", "value_lower_80",
                                "value_upper_80", "value_lower_90", "value_upper_90",
                                "value_lower_95", "value_upper_95"]
    widths = np.asarray(json.loads(
        (trained["out"] / "model" / "intervals.json").read_text())["half_widths"])
    for i, level in enumerate(("80", "90", "95")):
        np.testing.assert_allclose(fc[f"value_upper_{level}"] - fc["value"], widths[i, :, 0])
        np.testing.assert_allclose(fc["value"] - fc[f"value_lower_{level}"], widths[i, :, 0])
    assert_png(png)


def test_evaluate_scores_only_unseen_windows(trained: dict[str, Path]) -> None:
    res = run_forecast("evaluate", "--model", trained["out"] / "model", trained["full"],
                       "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["schema_version"] == 1  # docs/json.md
    # Targets after row 199: origins 200 … 240 − 4 = 236, i.e. 37 windows.
    assert report["windows"] == 37
    assert report["first_target"].startswith("2020-07-19")  # row 200 of a daily 2020-01-01 ramp
    assert set(report["scores"]) == {"model", "naive", "seasonal_naive"}
    assert set(report["intervals"]) == {"80", "90", "95"}


def test_evaluate_on_the_training_data_exits_65(trained: dict[str, Path]) -> None:
    res = run_cli("evaluate", "--model", trained["out"] / "model", trained["train"])
    assert res.returncode == 65
    assert "Error:" in res.stderr
    assert "no window to score" in res.stderr


def test_level_outside_0_100_exits_2(tmp_path: Path) -> None:
    csv = write_series(tmp_path / "s.csv", np.arange(60.0))
    res = run_cli("train", csv, "--level", "80,150", "--output-dir", tmp_path / "o")
    assert res.returncode == 2
    assert "Error: `levels` must each be between 0 and 100 (exclusive). Got 150.0." in res.stderr


def test_channel_independence_from_the_cli(tmp_path: Path) -> None:
    two = np.stack([seasonal_series(160, seed=1), 5 + seasonal_series(160, seed=2)], axis=1)
    csv = write_series(tmp_path / "two.csv", two, columns=("a", "b"))
    res = run_cli("train", csv, "--target", "a,b", "--channel-independence", *TINY_ARGS,
                  "--output-dir", tmp_path / "o", "--quiet")
    assert res.returncode == 0, res.stderr
    config = json.loads((tmp_path / "o" / "model" / "config.json").read_text())
    assert config["network"]["channel_independence"] is True
    assert config["settings"]["channel_independence"] is True
    table = pd.read_csv(tmp_path / "o" / "test_forecasts.csv")
    assert set(table["target"]) == {"a", "b"}
    assert {"lower_80", "upper_95"} <= set(table.columns)
