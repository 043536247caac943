"""Case 35 of docs/bad-inputs.md: predict-time data that does not fit the bundle.

One tiny model is trained once (a real TensorFlow fit of one epoch); the mismatches are refused
before TensorFlow is even imported, and out-of-range values give a warning, not a refusal.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_ARGS, run_forecast, seasonal_series, write_series


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("case35")
    data = write_series(root / "train.csv", seasonal_series(80))
    out = root / "out"
    result = run_forecast("train", data, *TINY_ARGS, "--epochs", "1", "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    return out / "model"


def _predict(bundle: Path, path: Path) -> tuple[int, str]:
    result = run_forecast("predict", "--model", bundle, path)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("name", "kwargs", "words"),
    [("freq", {"freq": "h"}, ("frequency 'h'", "model's 'D'", "resample")),
     ("column", {"columns": ("level",)}, ("value column 'value' not found", "level")),
     ("tz", {"aware": True}, ("timestamps are in UTC", "naive (no time zone)", "--tz"))])
def test_case35_schema_mismatch_is_refused(bundle: Path, tmp_path: Path, name: str,
                                           kwargs: dict[str, object],
                                           words: tuple[str, ...]) -> None:
    path = tmp_path / f"{name}.csv"
    values = seasonal_series(40)
    if kwargs.get("aware"):
        write_series(path, values)
        text = path.read_text().splitlines()
        path.write_text("\n".join([text[0], *(f"{t.split(',')[0]}T00:00:00+00:00,"
                                             f"{t.split(',')[1]}" for t in text[1:])]) + "\n")
    else:
        write_series(path, values, freq=str(kwargs.get("freq", "D")),
                     columns=tuple(kwargs.get("columns", ("value",))))  # type: ignore[arg-type]
    code, text = _predict(bundle, path)
    assert code == 65, text
    assert str(path) in text
    for word in words:
        assert word in text, text


def test_case35_far_outside_training_range_warns(bundle: Path, tmp_path: Path) -> None:
    path = write_series(tmp_path / "far.csv", 100 * seasonal_series(40))
    code, text = _predict(bundle, path)
    assert code == 0, text
    assert "Warning: column 'value': recent values lie far outside the training range" in text
    config = json.loads((bundle / "config.json").read_text())
    assert config["data"]["tz"] is None
    assert "fill" in config["settings"]  # reading options are recorded with the model
    forecast = np.loadtxt(text.splitlines()[1:5], delimiter=",", usecols=2)
    assert forecast.shape == (4,)
