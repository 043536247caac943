"""``combine`` (issue 15): the network's forecast blended with the Theta method's, chosen on
validation (auto), always (theta) or never (none); what train records, what predict (both
paths) and backtest serve, and the setting through the CLI, a TOML file and a batch job.

One tiny series is trained once with ``combine theta`` (in process); the expected forecasts
are derived from the bundle's network alone and ``theta_forecast`` of the file's values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from forecast_cli.core.theta import theta_forecast
from forecast_cli.errors import ConfigError
from forecast_cli.model.bundle import read_bundle
from forecast_cli.ops.jobs import load_batch
from forecast_cli.pipeline import backtest, bundle_series, ensemble, transforming
from forecast_cli.pipeline.forecasting import forecast_table, predict, render_forecast, run_network
from forecast_cli.pipeline.inputs import latest_windows
from forecast_cli.pipeline.quickpredict import quick_predict
from forecast_cli.pipeline.training import train
from forecast_cli.settings import build_settings, read_config_file
from tests.batch_helpers import write_batch
from tests.conftest import run_forecast, seasonal_series, write_series

TINY = {"lookback": 8, "horizon": 4, "lstm_units": 4, "epochs": 2, "batch_size": 16,
        "patience": 1, "seed": 7, "ensemble_seeds": 1, "ensemble_lookbacks": (1.0,),
        "refit": False}


@pytest.fixture(scope="module")
def blended(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("theta")
    data = write_series(d / "daily.csv", seasonal_series(120))
    result = train(data, build_settings({**TINY, "combine": "theta", "output_dir": d / "out"}))
    return {"data": data, "result": result, "out": d / "out"}


def test_train_records_the_blend_and_scores_what_it_serves(blended: dict[str, Any]) -> None:
    metrics = json.loads((blended["out"] / "metrics.json").read_text())
    e = metrics["ensemble"]
    blends = [ensemble.SINGLE + ensemble.WITH_THETA, ensemble.SINGLE + ensemble.ALWAYS_SEASONAL]
    assert set(e["validation"]) == {ensemble.SINGLE, *blends}
    # combine theta: the better blend on validation, never the network alone
    assert e["chosen"] == min(blends, key=e["validation"].get)
    assert e["theta_weight"] == 0.5
    assert e["theta_always"] == (e["chosen"] == blends[1])
    settings = read_bundle(blended["out"] / "model").settings
    assert (settings["theta_weight"], settings["theta_always"]) == (0.5, e["theta_always"])
    # the test scores train reports are the blend's (the choice scored the same windows)
    assert metrics["test"]["model"]["mase"] == pytest.approx(e["test"][e["chosen"]])
    assert metrics["test"]["model"]["mase"] != pytest.approx(e["test"][ensemble.SINGLE])
    assert metrics["validation"]["model"]["mase"] == pytest.approx(e["validation"][e["chosen"]])


def test_predict_serves_half_network_half_theta_on_both_paths(blended: dict[str, Any]) -> None:
    bundle_dir, data = blended["out"] / "model", blended["data"]
    fc = predict(bundle_dir, data)
    b, frame = fc.bundle, fc.frame
    assert frame is not None
    kept, x, lasts, _ = latest_windows(b, frame, None, False)
    alone = forecast_table(b, kept, lasts, run_network(b, x),
                           transforming.served(b, bundle_series.frame_ids(frame)))
    values = pd.read_csv(data)["value"].to_numpy(float)
    theta = theta_forecast(values, 4, int(b.schema.season), b.settings["theta_always"])
    np.testing.assert_allclose(fc.table["value"], 0.5 * alone["value"] + 0.5 * theta,
                               rtol=1e-12)
    assert not np.allclose(fc.table["value"], alone["value"])
    # intervals: the blend's calibrated widths around the blend
    assert (fc.table["value_lower_80"] < fc.table["value"]).all()
    assert (fc.table["value"] < fc.table["value_upper_80"]).all()
    quick = quick_predict(bundle_dir, data, "csv")  # numpy and ONNX Runtime only
    assert quick is not None
    assert quick.text == render_forecast(fc, "csv")


def test_backtest_blends_each_fold_as_combine_says(tmp_path: Path) -> None:
    data = write_series(tmp_path / "daily.csv", seasonal_series(120))
    base = {**TINY, "folds": 2}
    runs = {c: backtest.backtest(data, build_settings({**base, "combine": c}))
            for c in ("none", "theta")}
    values = pd.read_csv(data)["value"].to_numpy(float)
    for alone, mixed in zip(runs["none"].folds, runs["theta"].folds, strict=True):
        (fold,) = mixed.folds
        # one of Theta's two seasonality rules, whichever the fold's validation chose
        expected = [0.5 * alone.forecasts["model"][0, :, 0] + 0.5 * theta_forecast(
            values[fold.train_start:fold.origin], 4, 7, rule) for rule in (False, True)]
        assert any(np.allclose(mixed.forecasts["model"][0, :, 0], f, rtol=1e-9, atol=0)
                   for f in expected)
        assert not np.allclose(mixed.forecasts["model"], alone.forecasts["model"])


def test_the_setting_reaches_cli_toml_and_batch_and_refuses_nonsense(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"`combine`.*'sometimes'"):
        build_settings({"combine": "sometimes"})
    toml = tmp_path / "cfg.toml"
    toml.write_text('combine = "none"\n')
    assert build_settings(read_config_file(toml)).combine == "none"
    data = write_series(tmp_path / "d.csv", seasonal_series(60))
    batch = write_batch(tmp_path / "jobs.toml",
                        {"j": {"data": str(data), "output": str(tmp_path / "fc.csv"),
                               "combine": "theta"}})
    (job,) = load_batch(batch, tmp_path / "state").jobs
    assert job.settings.combine == "theta"
    proc = run_forecast("train", data, "--combine", "sometimes")
    assert proc.returncode == 2
    assert "sometimes" in proc.stderr
    assert "auto" in proc.stderr


def test_inspect_says_what_the_bundle_serves(blended: dict[str, Any]) -> None:
    from forecast_cli.cli.render_report import serves_words
    from forecast_cli.pipeline.bundle_info import describe

    info = describe(blended["out"] / "model")
    b = read_bundle(blended["out"] / "model")
    e = json.loads((blended["out"] / "metrics.json").read_text())["ensemble"]
    always = b.settings["theta_always"]
    assert info["serves"] == {"serving": "model", "chosen": e["chosen"],
                              "members": [[b.spec.lookback, b.spec.seed]], "theta_weight": 0.5,
                              "theta_always": always, "fit": "held-out"}
    assert serves_words(info["serves"]) == (
        f"one network (lookback/seed {b.spec.lookback}/{b.spec.seed}) blended half and half "
        "with Theta" + (" (every series of two seasons deseasonalised)" if always else "")
        + "; the held-out fit")


def test_auto_prefers_the_blend_unless_the_network_alone_is_clearly_better() -> None:
    def pick(alone: float, blended: float, blends: bool = True,
             either: bool = True) -> str | None:
        scores = {"a": {"mase": alone}, "b": {"mase": alone + 1.0},
                  "a + Theta": {"mase": blended}, "b + Theta": {"mase": blended + 1.0}}
        return ensemble.pick(scores, "mase", blends, either)

    margin = 1.0 + ensemble.PREFER_BLEND
    assert pick(1.0, 1.0 * margin - 1e-9) == "a + Theta"  # within the margin: the blend
    assert pick(1.0, 1.0 * margin + 1e-9) == "a"  # beyond it: the network alone
    assert pick(1.0, 0.5) == "a + Theta"
    assert pick(1.0, float("nan")) == "a"  # a blend that failed is never served
    assert pick(1.0, 9.0, either=False) == "a + Theta"  # combine theta: blends only
    assert pick(9.0, 1.0, blends=False) == "a"  # combine none: networks only
    assert ensemble.pick({}, "mase", True, True) is None  # no validation window
