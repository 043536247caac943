"""`forecast backtest` over several series (``id_col``): per-series folds, one model per fold.

The series are functions whose baselines can be worked out by hand: a constant, a ramp and a
ramp plus a sine of the season's period, of different lengths, so every series has fold
origins of its own. A fourth series is too short and is left out. Baseline scores are compared
with the numbers computed here from the functions themselves, which only agree when every
window lies inside its own series.

Every run is the CLI in this process (``cli_helpers.run_cli``): the JSON and text reports,
the refusals, the one-series comparison. `forecast backtest` as a subprocess (exit code,
streams, --quiet) is test_backtest.py's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.cli_helpers import run_cli
from tests.conftest import SINGLE, assert_png

H, LOOKBACK, FOLDS, SEASON = 4, 8, 3, 7
FIT = ("--lookback", str(LOOKBACK), "--horizon", str(H), "--folds", str(FOLDS),
       "--lstm-units", "4", "--epochs", "1", "--batch-size", "16", "--seed", "7", *SINGLE)
ONE_FIT = ("--refit-every", str(FOLDS))  # folds 2 and 3 reuse fold 1's network: one fit
WIDE = {"COLUMNS": "200"}  # rich tables at full width, nothing truncated
START = pd.Timestamp("2020-01-01")


def flat(t: np.ndarray) -> np.ndarray:
    return np.full(len(t), 5.0)


def ramp(t: np.ndarray) -> np.ndarray:
    return 100.0 + 2.0 * t


def wave(t: np.ndarray) -> np.ndarray:
    return 50.0 + 0.5 * t + 10.0 * np.sin(2 * np.pi * t / SEASON)


SERIES: dict[str, tuple[Callable[[np.ndarray], np.ndarray], int]] = {
    "flat": (flat, 60), "ramp": (ramp, 50), "wave": (wave, 70)}


def _write_long(path: Path, series: dict[str, tuple[Callable[[np.ndarray], np.ndarray], int]],
                extra: dict[str, int] | None = None) -> Path:
    blocks = [pd.DataFrame({"series": sid, "day": pd.date_range(START, periods=n, freq="D"),
                            "y": fn(np.arange(n, dtype=float))})
              for sid, (fn, n) in series.items()]
    blocks += [pd.DataFrame({"series": sid, "day": pd.date_range(START, periods=n, freq="D"),
                             "y": np.arange(n, dtype=float)}) for sid, n in (extra or {}).items()]
    pd.concat(blocks).to_csv(path, index=False)
    return path


def _config(path: Path, extra: str = "") -> Path:
    path.write_text(f'id_col = "series"\nseason = {SEASON}\n{extra}', encoding="utf-8")
    return path


def _origin(n: int, fold: int) -> int:
    """Fold origin in a series of n rows: the last fold's targets end at its last row."""
    return n - H - (FOLDS - 1 - fold) * H


def _baselines(fn: Callable[[np.ndarray], np.ndarray], origin: int) -> dict[str, dict[str, Any]]:
    """Naive and seasonal-naive MAE, RMSE and MASE of one window, from the function itself."""
    y = fn(np.arange(origin + H, dtype=float))
    actual = y[origin:]
    steps = np.arange(H)
    forecasts = {"naive": np.full(H, y[origin - 1]),
                 "seasonal_naive": y[origin + steps - SEASON * (steps // SEASON + 1)]}
    scale = np.mean(np.abs(y[SEASON:origin] - y[:origin - SEASON]))
    out = {}
    for name, fc in forecasts.items():
        err = np.abs(actual - fc)
        out[name] = {"mae": err.mean(), "rmse": np.sqrt(np.mean(err ** 2)),
                     "mase": err.mean() / scale if scale > 0 else None}
    return out


def _close(got: float | None, want: float | None) -> None:
    if want is None:
        assert got is None
    else:
        assert got == pytest.approx(want, rel=1e-9, abs=1e-9)


@pytest.fixture(scope="module")
def panel_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("btpanel")
    data = _write_long(tmp / "long.csv", SERIES, extra={"tiny": 15})
    res = run_cli("backtest", data, "--config", _config(tmp / "bt.toml"), *FIT, "--json")
    assert res.returncode == 0, res.stderr
    report: dict[str, Any] = json.loads(res.stdout)
    return report


def test_every_series_gets_its_own_folds(panel_run: dict[str, Any]) -> None:
    r = panel_run
    assert (r["id_col"], r["series_count"], r["skipped"]) == ("series", 3, ["tiny"])
    assert "left out: tiny (15 rows)" in r["warnings"][0]
    assert [f["fold"] for f in r["folds"]] == [1, 2, 3]
    for j, fold in enumerate(r["folds"]):
        assert sorted(fold["series"]) == ["flat", "ramp", "wave"]
        for sid, (_, n) in SERIES.items():
            s = fold["series"][sid]
            o = _origin(n, j)  # 48/52/56 for flat, 38/42/46 for ramp, 58/62/66 for wave
            assert s["train_rows"] == [0, o]
            assert s["val_rows"][1] == o
            assert 0 < s["val_rows"][0] < o
            assert s["first_target"] == (START + pd.Timedelta(days=o)).isoformat()
            assert s["origin"] == (START + pd.Timedelta(days=o - 1)).isoformat()
        # one model per fold, calibrated on the validation windows of every series
        assert fold["intervals"]["calibration_windows"] == sum(
            s["intervals"]["n_calibration"] for s in fold["series"].values())
    assert [f["refit"] for f in r["folds"]] == [True, True, True]


def test_baselines_match_the_hand_computed_numbers(panel_run: dict[str, Any]) -> None:
    for j, fold in enumerate(panel_run["folds"]):
        for sid, (fn, n) in SERIES.items():
            want = _baselines(fn, _origin(n, j))
            got = fold["series"][sid]["scores"]
            for name in ("naive", "seasonal_naive"):
                for metric in ("mae", "rmse", "mase"):
                    _close(got[name][metric], want[name][metric])
        ramp_scores = fold["series"]["ramp"]["scores"]
        # slope a = 2, H = 4: naive errors a·1 … a·4 → MAE a·(H+1)/2 = 5; seasonal naive a·7
        assert ramp_scores["naive"]["mae"] == pytest.approx(5.0, rel=1e-12)
        assert ramp_scores["seasonal_naive"]["mae"] == pytest.approx(14.0, rel=1e-12)
        assert ramp_scores["naive"]["mase"] == pytest.approx(5.0 / 14.0, rel=1e-12)
        assert fold["series"]["flat"]["scores"]["naive"]["mae"] == 0.0
        # overall: every series has H points; MASE leaves out the constant (scale 0)
        for name in ("model", "naive", "seasonal_naive"):
            per = [fold["series"][sid]["scores"][name] for sid in SERIES]
            _close(fold["scores"][name]["mae"], float(np.mean([p["mae"] for p in per])))
            _close(fold["scores"][name]["mase"], float(np.mean([p["mase"] for p in per[1:]])))
        assert np.isfinite(fold["series"]["wave"]["scores"]["model"]["mae"])


def test_scores_pool_over_folds_overall_and_per_series(panel_run: dict[str, Any]) -> None:
    r = panel_run
    for name in ("model", "naive", "seasonal_naive"):
        _close(r["overall"][name]["mase"],
               float(np.mean([f["scores"][name]["mase"] for f in r["folds"]])))
        _close(r["overall"][name]["mae"],
               float(np.mean([f["scores"][name]["mae"] for f in r["folds"]])))
        for sid in SERIES:
            _close(r["series"][sid]["overall"][name]["mae"],
                   float(np.mean([f["series"][sid]["scores"][name]["mae"] for f in r["folds"]])))
        assert len(r["by_step_mae"][name]) == H
    assert r["series"]["ramp"]["overall"]["seasonal_naive"]["mase"] == pytest.approx(1.0)
    assert r["series"]["flat"]["overall"]["naive"]["mase"] is None
    assert set(r["series"]["wave"]["intervals"]) == {"80", "95"}


def test_text_report_shows_the_series_and_the_warning(tmp_path: Path) -> None:
    data = _write_long(tmp_path / "long.csv", SERIES, extra={"tiny": 15})
    png = tmp_path / "bt.png"
    res = run_cli("backtest", data, "--config", _config(tmp_path / "bt.toml"), *FIT,
                       *ONE_FIT, "--plot", png, env=WIDE)
    assert res.returncode == 0, res.stderr
    assert "3 series" in res.stdout
    assert "Series by LSTM MASE over all folds" in res.stdout
    for sid in SERIES:
        assert sid in res.stdout
    assert "2 (reused)" in res.stdout
    assert "2020-02-12 … 2020-03-03" in res.stdout  # fold 2: ramp's first target … wave's
    assert f"Warning: {data}: 1 series too short for 3 folds" in res.stderr
    assert_png(png)


def test_strict_or_no_long_enough_series_exit_65(tmp_path: Path) -> None:
    """Refused before any fit. (``strict`` also refuses a constant: the flat one stays out.)"""
    data = _write_long(tmp_path / "long.csv", {k: v for k, v in SERIES.items() if k != "flat"},
                       extra={"tiny": 15})
    res = run_cli("backtest", data, "--config",
                  _config(tmp_path / "strict.toml", "strict = true\n"), *FIT)
    assert res.returncode == 65
    assert "left out: tiny (15 rows). Fix:" in res.stderr
    res = run_cli("backtest", data, "--config", _config(tmp_path / "bt.toml"), *FIT,
                  "--fold-step", "30")
    assert res.returncode == 65
    assert "3 series too short for 3 folds 30 rows apart" in res.stderr


@pytest.fixture(scope="module")
def one_series(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    """The wave alone: as a plain file, and as a long file whose id column is one constant."""
    tmp = tmp_path_factory.mktemp("btone")
    y = wave(np.arange(70, dtype=float))
    days = pd.date_range(START, periods=70, freq="D")
    plain, long = tmp / "plain.csv", tmp / "long.csv"
    pd.DataFrame({"day": days, "y": y}).to_csv(plain, index=False)
    pd.DataFrame({"series": "only", "day": days, "y": y}).to_csv(long, index=False)
    runs = []
    for data, extra in ((plain, ("--season", str(SEASON))),
                        (long, ("--config", str(_config(tmp / "bt.toml"))))):
        res = run_cli("backtest", data, *extra, *FIT, *ONE_FIT, "--json")
        assert res.returncode == 0, res.stderr
        runs.append(json.loads(res.stdout))
    return runs[0], runs[1]


def test_one_series_report_has_no_series_sections(
        one_series: tuple[dict[str, Any], dict[str, Any]]) -> None:
    plain, _ = one_series
    assert set(plain) == {"schema_version", "data", "settings", "folds", "overall",
                          "by_step_mae", "intervals", "seconds"}
    assert plain["intervals"]["method"] == "split-conformal on each fitted fold's validation " \
                                           "windows"
    for j, fold in enumerate(plain["folds"]):
        assert list(fold) == ["fold", "train_rows", "val_rows", "origin", "first_target",
                              "refit", "epochs_run", "scores", "intervals"]
        assert fold["train_rows"] == [0, _origin(70, j)]
        want = _baselines(wave, _origin(70, j))
        for name in ("naive", "seasonal_naive"):
            for metric in ("mae", "rmse", "mase"):
                _close(fold["scores"][name][metric], want[name][metric])


def test_a_constant_id_column_gives_the_same_scores(
        one_series: tuple[dict[str, Any], dict[str, Any]]) -> None:
    plain, long = one_series
    assert long["series_count"] == 1
    assert long["skipped"] == []

    def same(a: dict[str, dict[str, float | None]], b: dict[str, dict[str, float | None]]) -> None:
        for name in ("model", "naive", "seasonal_naive"):
            for metric, value in a[name].items():
                _close(b[name][metric], value)

    same(plain["overall"], long["overall"])
    same(plain["overall"], long["series"]["only"]["overall"])
    for p, q in zip(plain["folds"], long["folds"], strict=True):
        same(p["scores"], q["scores"])
        same(p["scores"], q["series"]["only"]["scores"])
        assert p["first_target"] == q["series"]["only"]["first_target"]
        assert p["intervals"]["calibration_windows"] == q["intervals"]["calibration_windows"]
        for level, cov in p["intervals"]["test"].items():
            _close(q["intervals"]["test"][level]["coverage"], cov["coverage"])
            _close(q["intervals"]["test"][level]["mean_width"], cov["mean_width"])
    for name, steps in plain["by_step_mae"].items():
        for a, b in zip(steps, long["by_step_mae"][name], strict=True):
            _close(b, a)
