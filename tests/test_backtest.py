"""Rolling-origin fold boundaries on hand-derivable sizes, and one real backtest run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast_cli.errors import DataError
from forecast_cli.pipeline.backtest import Fold, fold_origins, fold_plan
from forecast_cli.settings import Settings
from tests.cli_helpers import run_cli
from tests.conftest import SINGLE, assert_png, run_forecast, seasonal_series, write_series


def test_expanding_folds_end_at_the_last_row() -> None:
    # n=100, H=4, 3 folds 4 apart: origins 100-4-8=88, 92, 96; fold 0 trains on 88 rows, the
    # last round(88·0.2) = 18 held out → validation from row 70; later folds grow.
    plan = fold_plan(100, lookback=8, horizon=4, folds=3, step=4, window="expanding",
                     val_share=0.2, refit_every=1)
    assert [(f.train_start, f.val_start, f.origin) for f in plan] == [
        (0, 70, 88), (0, 74, 92), (0, 77, 96)]  # 92·0.2 = 18.4 → 18; 96·0.2 = 19.2 → 19
    assert plan[-1].origin + 4 == 100
    assert all(f.refit for f in plan)


def test_sliding_folds_keep_the_first_folds_length() -> None:
    plan = fold_plan(100, lookback=8, horizon=4, folds=3, step=4, window="sliding",
                     val_share=0.2, refit_every=1)
    assert [(f.train_start, f.val_start, f.origin) for f in plan] == [
        (0, 70, 88), (4, 74, 92), (8, 78, 96)]
    assert {f.origin - f.train_start for f in plan} == {88}


def test_refit_every_reuses_the_network_of_the_last_refit() -> None:
    plan = fold_plan(100, lookback=8, horizon=4, folds=5, step=2, window="expanding",
                     val_share=0.2, refit_every=2)
    assert [f.fitted_at for f in plan] == [0, 0, 2, 2, 4]
    assert [f.refit for f in plan] == [True, False, True, False, True]


def test_fold_windows_never_reach_the_origin() -> None:
    f = Fold(index=0, train_start=4, val_start=70, origin=88, fitted_at=0)
    part = fold_origins(f, lookback=8, horizon=4)
    # Train targets end before the validation rows, inputs start at the training part.
    assert part["train"][0] == 12
    assert part["train"][-1] == 66
    assert part["val"][0] == 70
    assert part["val"][-1] == 84
    assert part["val"][-1] + 4 == f.origin


def test_too_short_series_names_the_folds() -> None:
    with pytest.raises(DataError, match=r"too short for 5 folds 10 rows apart"):
        fold_plan(60, lookback=8, horizon=4, folds=5, step=10, window="expanding",
                  val_share=0.2, refit_every=1, source="x.csv")


@pytest.fixture(scope="module")
def daily_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_series(tmp_path_factory.mktemp("bt") / "daily.csv", seasonal_series(160))


def _floats(obj: Any) -> list[float]:
    if isinstance(obj, float):
        return [obj]
    items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, list) else []
    return [x for item in items for x in _floats(item)]


def test_backtest_cli_json_and_plot(daily_csv: Path, tmp_path: Path) -> None:
    png = tmp_path / "bt.png"
    config = tmp_path / "bt.toml"
    config.write_text("precision = 2\n", encoding="utf-8")  # --precision, through the TOML
    res = run_forecast("backtest", daily_csv, "--folds", "3", "--refit-every", "2",
                       "--lookback", "14", "--horizon", "7", "--lstm-units", "8",
                       "--epochs", "2", "--batch-size", "32", "--seed", "3", *SINGLE, "--json",
                       "--plot", png, "--config", config, "--quiet")
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""  # --quiet: no messages, but the JSON asked for
    report = json.loads(res.stdout)
    scores = _floats({k: v for k, v in report.items() if k not in ("settings", "seconds")})
    assert len(scores) > 50
    assert all(x == round(x, 2) for x in scores)
    assert any(x != round(x) for x in scores)
    assert report["settings"]["learning_rate"] == Settings().learning_rate  # 0.001: not rounded
    folds = report["folds"]
    assert [f["fold"] for f in folds] == [1, 2, 3]
    assert [f["refit"] for f in folds] == [True, False, True]
    # origins 160-7-14=139, 146, 153 (step = horizon); the last targets end at row 160.
    assert [f["train_rows"][1] for f in folds] == [139, 146, 153]
    assert folds[0]["first_target"].startswith(str(np.datetime64("2020-01-01") + 139))
    for name in ("model", "naive", "seasonal_naive"):
        assert set(report["overall"][name]) == {"mae", "rmse", "mape", "smape", "mase"}
        assert len(report["by_step_mae"][name]) == 7
    for fold in folds:  # intervals calibrated on the fitted fold's validation windows
        assert set(fold["intervals"]["test"]) == {"80", "95"}
        assert fold["intervals"]["calibration_windows"] > 0
        for level in fold["intervals"]["test"].values():
            assert 0.0 <= level["coverage"] <= 100.0
            assert level["mean_width"] >= 0.0
    # fold 2 reuses fold 1's network and calibration: the same widths (upper − lower rounds)
    assert folds[1]["intervals"]["test"]["80"]["mean_width"] == pytest.approx(
        folds[0]["intervals"]["test"]["80"]["mean_width"], rel=1e-12)
    assert folds[1]["intervals"]["calibration_windows"] == \
        folds[0]["intervals"]["calibration_windows"]
    assert set(report["intervals"]["test"]) == {"80", "95"}
    assert_png(png)
    assert png.stat().st_size > 10_000


def test_backtest_cli_too_many_folds_exit_65(daily_csv: Path) -> None:
    res = run_cli("backtest", daily_csv, "--folds", "30", "--lookback", "14",
                  "--horizon", "7")
    assert res.returncode == 65
    assert "Error:" in res.stderr
    assert "too short for 30 folds" in res.stderr


@settings(max_examples=60, deadline=None)
@given(n=st.integers(40, 400), lookback=st.integers(1, 20), horizon=st.integers(1, 12),
       folds=st.integers(1, 6), step=st.integers(1, 10),
       window=st.sampled_from(["expanding", "sliding"]), refit=st.integers(1, 3))
def test_no_fold_ever_trains_on_its_own_targets(n: int, lookback: int, horizon: int,
                                                folds: int, step: int, window: str,
                                                refit: int) -> None:
    try:
        plan = fold_plan(n, lookback, horizon, folds, step, window, 0.2, refit)
    except DataError:
        return  # too short: refused, never silently shortened
    assert plan[-1].origin + horizon == n
    assert [f.origin for f in plan] == [plan[0].origin + i * step for i in range(folds)]
    for f in plan:
        part = fold_origins(plan[f.fitted_at], lookback, horizon)
        assert len(part["train"]) > 0
        assert len(part["val"]) > 0
        # Everything the fitted network saw ends before the origin of the fold it forecasts.
        assert part["val"].max() + horizon <= plan[f.fitted_at].origin <= f.origin
        assert part["train"].max() + horizon <= plan[f.fitted_at].val_start
        assert part["train"].min() - lookback >= plan[f.fitted_at].train_start
