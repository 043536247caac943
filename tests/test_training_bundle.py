"""Training through the library, the bundle it writes, and how loading defends itself."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast_cli.core.splits import origins
from forecast_cli.core.theta import theta_forecast
from forecast_cli.errors import BundleError, InputMissingError
from forecast_cli.model import api as model
from forecast_cli.model import bundle
from forecast_cli.model.bundle import read_bundle
from forecast_cli.pipeline.train_result import TrainResult
from forecast_cli.pipeline.training import train
from forecast_cli.settings import build_settings
from tests.conftest import seasonal_series, write_series

# one network, no refit, no target transform: the bundle holds the held-out fit these tests
# check, and the scaler's numbers are the raw training rows' (the ensemble and the refit:
# test_ensemble.py; the transforms: test_transform*.py)
TINY = dict(lookback=8, horizon=4, lstm_units=8, epochs=4, batch_size=16, patience=2, seed=7,
            ensemble_seeds=1, ensemble_lookbacks=(1.0,), refit=False, transform="none",
            deseasonalize="none")


def _train(tmp: Path, csv: Path, name: str, **kw: object) -> TrainResult:
    settings = build_settings({**TINY, **kw, "output_dir": tmp / name})
    return train(csv, settings)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TrainResult]:
    tmp = tmp_path_factory.mktemp("train")
    csv = write_series(tmp / "daily.csv", seasonal_series(200))
    return csv, _train(tmp, csv, "run")


def _weights(path: Path) -> list[np.ndarray]:
    b = read_bundle(path)
    return [np.asarray(w) for w in model.load_network(b.spec, b.weights).get_weights()]


def test_same_seed_gives_bit_identical_weights_and_forecasts(
        trained: tuple[Path, TrainResult], tmp_path: Path) -> None:
    csv, first = trained
    again = _train(tmp_path, csv, "again")
    for a, b in zip(_weights(first.bundle_dir), _weights(again.bundle_dir), strict=True):
        np.testing.assert_array_equal(a, b)
    left = pd.read_csv(first.output_dir / "test_forecasts.csv")
    right = pd.read_csv(again.output_dir / "test_forecasts.csv")
    pd.testing.assert_frame_equal(left, right, check_exact=True)
    other = _train(tmp_path, csv, "other", seed=8)  # proves the comparison can fail
    assert not np.array_equal(_weights(first.bundle_dir)[0], _weights(other.bundle_dir)[0])


def test_scaler_was_fitted_on_training_rows_only(trained: tuple[Path, TrainResult]) -> None:
    csv, result = trained
    values = pd.read_csv(csv)["value"].to_numpy()
    train_end = round(len(values) * 0.7)
    assert result.bounds.train_end == train_end
    saved = json.loads((result.bundle_dir / "scaler.json").read_text())
    assert saved["offset"] == [pytest.approx(values[:train_end].mean(), rel=1e-12)]
    assert saved["scale"] == [pytest.approx(values[:train_end].std(), rel=1e-12)]
    assert saved["offset"] != [pytest.approx(values.mean(), rel=1e-6)]  # the trend moves it


def test_best_weights_are_the_ones_saved(trained: tuple[Path, TrainResult]) -> None:
    # The saved network's validation MSE (scaled units) is the best epoch's val_loss.
    _, result = trained
    b = read_bundle(result.bundle_dir)
    net = model.load_network(b.spec, b.weights)
    scaled = b.scaler.transform(result.frame.values)
    val = origins(result.bounds, "val", b.spec.lookback, b.spec.horizon)
    pred = model.predict(net, model.window_dataset(scaled, None, val, b.spec, 1024))
    actual = scaled[val[:, None] + np.arange(b.spec.horizon)]
    best = min(result.history["val_loss"])
    assert float(np.mean((pred - actual) ** 2)) == pytest.approx(best, rel=1e-4)


def test_bundle_round_trip_reproduces_the_test_forecasts(
        trained: tuple[Path, TrainResult]) -> None:
    _, result = trained
    b = read_bundle(result.bundle_dir)
    net = model.load_network(b.spec, b.weights)
    scaled = b.scaler.transform(result.frame.values)
    test = origins(result.bounds, "test", b.spec.lookback, b.spec.horizon)
    pred = b.scaler.inverse(model.predict(net, model.window_dataset(scaled, None, test, b.spec,
                                                                    1024)))
    # what is served: the network, or (combine chose it) its mean with Theta fitted on the
    # series up to each window's origin
    w = b.settings["theta_weight"]
    if w:
        values = result.frame.values[:, 0]
        theta = np.stack([theta_forecast(values[:o], b.spec.horizon, b.schema.season,
                                         b.settings["theta_always"]) for o in test])[:, :, None]
        pred = (1 - w) * pred + w * theta
    table = pd.read_csv(result.output_dir / "test_forecasts.csv")
    np.testing.assert_array_equal(table["model"].to_numpy(), pred.ravel())
    np.testing.assert_array_equal(table["actual"].to_numpy(),
                                  result.frame.values[test[:, None] + np.arange(4), 0].ravel())


def _copy(result: TrainResult, tmp: Path) -> Path:
    return Path(shutil.copytree(result.bundle_dir, tmp / "bundle"))


@pytest.mark.parametrize(("damage", "message"), [
    (lambda p: (p / "model.weights.h5").write_bytes(
        (p / "model.weights.h5").read_bytes()[:-100]), "model.weights.h5 does not match"),
    (lambda p: (p / "config.json").write_text(
        (p / "config.json").read_text().replace('"lstm_units": 8', '"lstm_units": 9')),
     "config.json does not match its checksum"),
    (lambda p: (p / "scaler.json").unlink(), "scaler.json is missing"),
    (lambda p: (p / "manifest.json").unlink(), "not a model bundle (no manifest.json)"),
    (lambda p: (p / "manifest.json").write_text(
        (p / "manifest.json").read_text().replace('"format_version": 1', '"format_version": 9')),
     "bundle format version 9 is not supported"),
    (lambda p: (p / "manifest.json").write_text("{not json"), "manifest.json is unreadable"),
])
def test_altered_bundles_are_refused(trained: tuple[Path, TrainResult], tmp_path: Path,
                                     damage: object, message: str) -> None:
    path = _copy(trained[1], tmp_path)
    damage(path)  # type: ignore[operator]
    with pytest.raises(BundleError, match=re.escape(message)):
        read_bundle(path)


def test_missing_bundle_is_input_missing(tmp_path: Path) -> None:
    with pytest.raises(InputMissingError, match="model bundle not found"):
        read_bundle(tmp_path / "nowhere")


def test_a_failed_publication_leaves_the_previous_bundle_untouched(
        trained: tuple[Path, TrainResult], tmp_path: Path) -> None:
    path = _copy(trained[1], tmp_path)
    before = {f.name: f.read_bytes() for f in path.iterdir()}
    b = read_bundle(path)

    def crash(_: Path) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        bundle.write_bundle(path, b.spec, b.schema, b.scaler, b.settings, "x", crash)
    assert {f.name: f.read_bytes() for f in path.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]  # no temporary left over
