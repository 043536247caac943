"""Honest when it loses: ``train``'s last line and metrics.json say whether the network beat
seasonal naive on validation; with ``--fallback seasonal-naive`` a losing bundle serves
seasonal naive through predict."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from forecast_cli.pipeline.fallback import latest_seasonal_naive
from tests.cli_helpers import run_cli
from tests.conftest import TINY_ARGS, run_forecast

PATTERN = np.array([10.0, 14.0, 9.0, 20.0])  # a pure season of 4: seasonal naive is exact


def test_latest_seasonal_naive_repeats_the_last_season() -> None:
    rows = np.arange(10.0)[:, None]  # season 4: the last season is rows 6, 7, 8, 9
    np.testing.assert_array_equal(latest_seasonal_naive(rows, 6, 4)[:, 0], [6, 7, 8, 9, 6, 7])
    np.testing.assert_array_equal(latest_seasonal_naive(rows[:3], 2, 4)[:, 0], [2, 2])


def test_a_losing_network_serves_seasonal_naive_with_fallback(tmp_path: Path) -> None:
    n = 122  # ends on PATTERN[1]: the next values are PATTERN[2], [3], [0], [1]
    data = tmp_path / "s.csv"
    pd.DataFrame({"ts": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
                  "v": PATTERN[np.arange(n) % 4]}).to_csv(data, index=False)
    out = tmp_path / "o"
    trained = run_cli("train", data, *TINY_ARGS, "--season", "4", "--fallback",
                      "seasonal-naive", "-o", out)
    assert trained.returncode == 0, trained.stderr
    last = trained.stderr.strip().splitlines()[-1]  # the summary: render.message
    assert "does NOT beat seasonal naive" in last
    assert "serves seasonal naive" in last
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["validation"]["beats_seasonal_naive"] is False
    assert metrics["serving"] == "seasonal-naive"
    done = run_forecast("predict", "--model", out / "model", data)
    assert done.returncode == 0, done.stderr
    fc = pd.read_csv(io.StringIO(done.stdout))
    np.testing.assert_array_equal(fc["v"], PATTERN[np.arange(n, n + 4) % 4])
    assert "serves seasonal naive" in done.stderr
