"""ETTh1 with all 7 columns as targets, and case 35 of docs/bad-inputs.md on that model.

One model is trained once on ETTh1 (a real TensorFlow fit of one epoch); predict-time data that
does not fit it (frequency, columns, time zone) is refused before TensorFlow is imported, and
values far outside the training range give a warning, not a refusal.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.cli_helpers import run_cli
from tests.conftest import REPO, SINGLE, run_forecast

ETTH1 = REPO.parent / "shared" / "data" / "ett" / "ETTh1.csv"
TARGETS = ("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT")
# The network alone (--combine none): the Theta blend has its own tests (test_theta_blend.py),
# and its choice fits Theta on each validation and test window's whole history, per target:
# ~0.2 CPU s a window at ETTh1's length, hours for its ~5,200 windows × 7 targets.
FAST = ("--lookback", "8", "--horizon", "4", "--lstm-units", "8", "--epochs", "1",
        "--batch-size", "256", "--patience", "1", "--seed", "7", *SINGLE, "--combine", "none")


def _etth1() -> Path:
    if not ETTH1.is_file():
        pytest.skip(f"{ETTH1} not present")
    return ETTH1


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ett") / "out"
    result = run_cli("train", _etth1(), "--target", ",".join(TARGETS), *FAST, "-o", out,
                     "-q")
    assert result.returncode == 0, result.stderr
    return out


def test_etth1_validates_cleanly() -> None:
    result = run_forecast("validate", _etth1(), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["rows"], report["freq"], report["value_columns"]) == (17420, "h", list(TARGETS))
    assert (report["errors"], report["warnings"], report["fixes"]) == ([], [], [])
    assert result.stderr == ""


def test_etth1_trains_with_all_seven_targets(trained: Path) -> None:
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["settings"]["target"] == list(TARGETS)
    assert metrics["data"]["columns"] == list(TARGETS)
    table = pd.read_csv(trained / "test_forecasts.csv")
    assert tuple(sorted(table["target"].unique())) == tuple(sorted(TARGETS))
    # test rows are [round(0.85 n), n) of n = 17420; each window of horizon 4 lies inside them
    test_rows = 17420 - (round(17420 * 0.7) + round(17420 * 0.15))
    assert metrics["windows"]["test"] == test_rows - 4 + 1
    assert len(table) == metrics["windows"]["test"] * 4 * 7


def _slice(rows: int = 300) -> pd.DataFrame:
    return pd.read_csv(_etth1(), nrows=rows)


@pytest.mark.parametrize(
    ("name", "words"),
    [("freq", ("frequency 'D'", "model's 'h'", "resample")),
     ("column", ("value column 'OT' not found", "Did you mean")),
     ("tz", ("timestamps are in UTC", "naive (no time zone)", "--tz")),
     # row 10 is line 12; it used to be scaled into NaN (issue 14)
     ("huge", ("column 'OT'", "line 12: '1e+300'", "beyond ±1e+100", "rescale"))])
def test_case35_schema_mismatch_is_refused(trained: Path, tmp_path: Path, name: str,
                                           words: tuple[str, ...]) -> None:
    frame = _slice()
    if name == "freq":
        frame["date"] = pd.date_range("2016-07-01", periods=len(frame), freq="D")
    elif name == "column":
        frame = frame.rename(columns={"OT": "OT_"})
    elif name == "huge":
        frame.loc[10, "OT"] = 1e300
    else:
        frame["date"] = pd.to_datetime(frame["date"]).dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    result = run_cli("predict", "--model", trained / "model", path)  # in this process: the
    assert result.returncode == 65, result.stderr  # real command is the warning test's
    assert str(path) in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def test_case35_far_outside_training_range_warns(trained: Path, tmp_path: Path) -> None:
    frame = _slice()
    frame["OT"] = frame["OT"] * 100
    path = tmp_path / "far.csv"
    frame.to_csv(path, index=False)
    result = run_forecast("predict", "--model", trained / "model", path)
    assert result.returncode == 0, result.stderr
    assert "Warning: column 'OT': recent values up to " in (
        result.stderr)
    forecast = pd.read_csv(io.StringIO(result.stdout))
    bounds = [f"{t}_{side}_{level}" for t in TARGETS for level in (80, 95)
              for side in ("lower", "upper")]
    assert list(forecast.columns)[: 2 + len(TARGETS)] == ["timestamp", "step", *TARGETS]
    assert sorted(list(forecast.columns)[2 + len(TARGETS):]) == sorted(bounds)
    assert len(forecast) == 4
    assert np.isfinite(forecast[list(TARGETS)].to_numpy()).all()
    config = json.loads((trained / "model" / "config.json").read_text())
    assert config["data"]["tz"] is None
    assert config["settings"]["fill"] == "none"  # reading options are recorded with the model
