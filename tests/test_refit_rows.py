"""The refit on every window fits its scalers and transforms on every row (issue 15).

One monthly series of 50 rows: a level times 12 seasonal indices, times seeded noise of 2 %.
Its 70 % training part (35 rows) is short of the three seasons (36 rows) that the seasonality
test needs, so the held-out fit's ``deseasonalize = auto`` leaves it seasonal; its 50 rows are
not, so the refit, which holds nothing out, deseasonalises it. In log space the seasonal
indices then take away all but the noise: the refit's scaler sees a spread of ~0.02, the
held-out fit's the indices' own (~0.15). Two real trainings, one network each.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast_cli.core import seasonality
from forecast_cli.pipeline.training import train
from forecast_cli.settings import build_settings

INDICES = np.array([0.8, 0.9, 1.0, 1.2, 1.3, 1.1, 1.0, 0.9, 0.85, 0.95, 1.05, 0.95])
N, TRAIN = 50, 35  # rows; round(0.7 × 50) training rows
SETTINGS = {"lookback": 8, "horizon": 4, "lstm_units": 4, "epochs": 2, "batch_size": 16,
            "patience": 2, "seed": 7, "season": 12, "ensemble_seeds": 1,
            "ensemble_lookbacks": (1.0,), "transform": "log", "deseasonalize": "auto"}


def _values() -> np.ndarray:
    noise = np.exp(0.02 * np.random.default_rng(0).standard_normal(N))
    return 50.0 * INDICES[np.arange(N) % 12] * noise


@pytest.fixture(scope="module")
def csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("refit_rows") / "monthly.csv"
    pd.DataFrame({"timestamp": pd.date_range("2010-01-01", periods=N, freq="MS"),
                  "value": _values()}).to_csv(path, index=False)
    return path


def test_the_premise_train_rows_are_too_short_and_all_rows_are_seasonal() -> None:
    logs = np.log(_values())
    assert not seasonality.seasonal(logs[:TRAIN], 12)
    assert seasonality.seasonal(logs, 12)


@pytest.mark.parametrize("refit", [True, False])
def test_the_bundle_holds_the_transforms_and_scalers_of_the_rows_its_network_saw(
        csv: Path, tmp_path: Path, refit: bool) -> None:
    out = tmp_path / "out"
    result = train(csv, build_settings({**SETTINGS, "refit": refit, "output_dir": str(out)}))
    assert result.bounds.train_end == TRAIN
    assert result.bundle_fit["fit"] == ("refit" if refit else "held-out")
    config = json.loads((out / "model" / "config.json").read_text())
    entry = config["data"]["transform"]["series"][""]
    assert entry["lambda"] == [0.0]  # log either way: every value is > 0
    assert (entry["indices"] is not None) is refit
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["transform"]["deseasonalized"] == int(refit)
    scaler = json.loads((out / "model" / "scaler.json").read_text())
    values = _values()
    seen = values if refit else values[:TRAIN]  # the ranges stay in original units
    assert scaler["data_min"] == [pytest.approx(seen.min(), rel=1e-12)]
    assert scaler["data_max"] == [pytest.approx(seen.max(), rel=1e-12)]
    spread = scaler["scale"][0]
    if refit:
        assert spread < 0.05  # the noise's 0.02, and what the estimated indices miss
    else:
        assert spread == pytest.approx(np.log(values[:TRAIN]).std(), rel=1e-9)
