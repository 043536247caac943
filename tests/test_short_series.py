"""Series too short for the configured windows are still forecast: padded windows (their first
row repeated before it), validated and tested on their own last horizons, flagged
``short_history``; only a series of fewer than 2 rows is left out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast_cli.core.scaling import SeriesScalers, fit_scaler
from forecast_cli.model import api as model
from forecast_cli.pipeline.inputs import padded_window
from tests.cli_helpers import run_cli
from tests.conftest import TINY_ARGS, run_forecast
from tests.test_stored_windows import batches, both_ways, spec


def test_padded_windows_repeat_the_first_row_of_their_series(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two series stacked (rows 0–19 and 20–29); windows of lookback 6 at origins 22 and 27
    of the second read rows 20, 20, 20, 20, 20, 21 and 21…26: never the first series."""
    values = np.arange(30.0)[:, None].repeat(3, axis=1) * np.array([1.0, 2.0, 3.0])
    origins, which = np.array([10, 22, 27]), np.array([0, 1, 1])
    starts = np.array([0, 20])
    ident = fit_scaler("standard", np.array([[-1.0] * 3, [1.0] * 3]))  # offset 0, scale 1
    kw = dict(inputs=values, targets=values, origins=origins, spec=spec(), batch_size=2,
              scaler=SeriesScalers((ident, ident)), series=which, first_rows=starts[which])
    stored, gathered = both_ways(monkeypatch, **kw)
    for got in (stored, gathered):
        x = np.concatenate([b[0] for b in got])
        rows = [list(range(4, 10)), [20, 20, 20, 20, 20, 21], list(range(21, 27))]
        np.testing.assert_array_equal(x, values[np.array(rows)].astype(np.float32))
    plain = batches(model.window_dataset(**{**kw, "first_rows": None}))
    np.testing.assert_array_equal(plain[0][0][1], values[16:22])  # unpadded: it would cross


def test_a_short_window_at_predict_time_is_padded_the_same_way() -> None:
    rows = np.array([[5.0, 1.0], [6.0, 2.0], [7.0, 3.0]])
    np.testing.assert_array_equal(padded_window(rows, 5)[:, 0], [5, 5, 5, 6, 7])
    np.testing.assert_array_equal(padded_window(rows, 2), rows[1:])


def _panel(path: Path) -> Path:
    """Two long monthly series (80 rows), one of 10 rows and one of 1, all ending together."""
    parts = []
    for sid, n in (("long1", 80), ("short", 10), ("long2", 80), ("one", 1)):
        ts = pd.date_range(end="2020-01-01", periods=n, freq="MS")
        v = 50 + 10 * np.sin(np.arange(n) * 2 * np.pi / 12) + 0.5 * np.arange(n)
        parts.append(pd.DataFrame({"id": sid, "month": ts.strftime("%Y-%m-%d"), "v": v}))
    pd.concat(parts).to_csv(path, index=False)
    return path


def test_every_series_of_a_panel_is_forecast_and_short_ones_are_flagged(tmp_path: Path) -> None:
    data = _panel(tmp_path / "p.csv")
    trained = run_cli("train", data, "--id-col", "id", *TINY_ARGS, "-o", tmp_path / "o")
    assert trained.returncode == 0, trained.stderr
    assert "short (10 rows)" in trained.stderr
    assert "one (1 rows)" in trained.stderr  # the only one left out, and said so
    assert trained.stderr.strip().splitlines()[-1].startswith("Validation: the LSTM ")
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert metrics["short_history"] == ["short"]
    # short: 10 rows, horizon 4, season 12: no room for a scored test window (seasonal naive
    # needs 12 rows before it), so its validation window is the last 4 rows
    assert "short" not in metrics["series"]
    assert "long1" in metrics["series"]
    out = tmp_path / "f.csv"
    done = run_forecast("predict", "--model", tmp_path / "o" / "model", data, "--out", out)
    assert done.returncode == 0, done.stderr
    fc = pd.read_csv(out)
    assert sorted(fc["id"].unique()) == ["long1", "long2", "short"]
    flags = fc.groupby("id")["short_history"].all().to_dict()
    assert flags == {"long1": False, "long2": False, "short": True}
    assert np.isfinite(fc["v"]).all()
    assert "short_history" in done.stderr
