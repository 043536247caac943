"""A single series is a panel of one: the same series as a plain file and with a constant id
column gives the same forecasts, scores and intervals (issue 12).

Both files go through the one pipeline; only the edges differ (an id column in the outputs, the
bundle's shape, per-series sections). Equal here means ≤ 1e-9 relative.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast_cli.pipeline.training import train
from forecast_cli.settings import build_settings
from tests.conftest import run_forecast, seasonal_series, write_series

TINY = {"lookback": 8, "horizon": 4, "lstm_units": 8, "epochs": 3, "batch_size": 16,
        "patience": 2, "seed": 7, "ensemble_seeds": 1, "ensemble_lookbacks": (1.0,),
        "refit": False}  # one network, as TINY_ARGS: the ensemble has its own tests
RTOL = 1e-9


def _as_panel(plain: Path, out: Path) -> Path:
    frame = pd.read_csv(plain)
    frame.insert(0, "series", "only")
    frame.to_csv(out, index=False)
    return out


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same 160 daily rows: plain, and with a constant ``series`` column."""
    d = tmp_path_factory.mktemp("one")
    plain = write_series(d / "plain.csv", seasonal_series(200)[:160])
    return plain, _as_panel(plain, d / "panel.csv")


@pytest.fixture(scope="module")
def later(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same series with 40 more days of actuals, for ``evaluate``."""
    d = tmp_path_factory.mktemp("later")
    plain = write_series(d / "plain.csv", seasonal_series(200))
    return plain, _as_panel(plain, d / "panel.csv")


@pytest.fixture(scope="module")
def trained(pair: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory,
            ) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("runs")
    plain, panel = pair
    train(plain, build_settings({**TINY, "output_dir": str(d / "plain")}))
    train(panel, build_settings({**TINY, "output_dir": str(d / "panel"), "id_col": "series"}))
    return {"plain": d / "plain", "panel": d / "panel"}


def _close(a: object, b: object) -> None:
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=RTOL, atol=0)


def test_training_scores_and_test_forecasts_are_equal(trained: dict[str, Path]) -> None:
    plain = json.loads((trained["plain"] / "metrics.json").read_text())
    panel = json.loads((trained["panel"] / "metrics.json").read_text())
    for method in ("model", "naive", "seasonal_naive"):
        for metric in ("mae", "rmse", "mase", "smape"):
            _close(plain["test"][method][metric], panel["test"][method][metric])
            _close(plain["test"][method][metric], panel["series"]["only"][method][metric])
    for level in ("80", "95"):
        _close(plain["intervals"]["test"][level]["coverage"],
               panel["intervals"]["test"][level]["coverage"])
        _close(plain["intervals"]["test"][level]["mean_width"],
               panel["intervals"]["series"]["only"]["test"][level]["mean_width"])
    assert plain["windows"] == panel["windows"]
    assert plain["training"]["best_epoch"] == panel["training"]["best_epoch"]
    a = pd.read_csv(trained["plain"] / "test_forecasts.csv")
    b = pd.read_csv(trained["panel"] / "test_forecasts.csv")
    assert list(b.columns) == ["series", *a.columns]  # the edge: an id column, nothing else
    assert (b["series"] == "only").all()
    for col in ("actual", "model", "naive", "seasonal_naive", "lower_80", "upper_95"):
        _close(a[col], b[col])


def test_predictions_and_intervals_are_equal(pair: tuple[Path, Path],
                                             trained: dict[str, Path]) -> None:
    plain_csv, panel_csv = pair
    a = run_forecast("predict", "-m", trained["plain"] / "model", plain_csv)
    b = run_forecast("predict", "-m", trained["panel"] / "model", panel_csv)
    assert a.returncode == 0, a.stderr
    assert b.returncode == 0, b.stderr
    fa = pd.read_csv(pd.io.common.StringIO(a.stdout))
    fb = pd.read_csv(pd.io.common.StringIO(b.stdout))
    assert list(fb.columns) == ["series", *fa.columns]
    assert list(fa["timestamp"]) == list(fb["timestamp"])
    for col in fa.columns.drop(["timestamp", "step"]):
        _close(fa[col], fb[col])


def test_evaluation_on_new_actuals_is_equal(later: tuple[Path, Path],
                                            trained: dict[str, Path]) -> None:
    from forecast_cli.pipeline.scoring import score_bundle

    a = score_bundle(trained["plain"] / "model", later[0]).to_json()
    b = score_bundle(trained["panel"] / "model", later[1]).to_json()
    # 40 new rows, horizon 4: windows whose targets all lie after row 160 → 40 − 4 + 1
    assert a["windows"] == b["windows"] == 37
    for method in ("model", "naive", "seasonal_naive"):
        for metric in ("mae", "rmse", "mase"):
            _close(a["scores"][method][metric], b["scores"][method][metric])
            _close(a["scores"][method][metric], b["series"]["only"][method][metric])
    for level in ("80", "95"):
        for key in ("coverage", "mean_width"):
            _close(a["intervals"][level][key], b["intervals"][level][key])
    assert "series" not in a
