"""evaluate and backtest keep a panel's short series, on padded windows, as train does.

A long daily series (80 rows) and a short one (20 rows) in one file; TINY_ARGS (lookback 8,
horizon 4), season 7. Rows counted by hand:

- backtest, 2 folds 4 rows apart: the short series' fold 1 origin is 20 − 4 − 4 = 12; with the
  lookback its training part [0, 10) has no window (10 − 4 < 8), so it is planned as train's
  short series are (validation: the 4 rows before the origin) with padded windows.
- evaluate on 7 seen + 4 new rows of it: its one unseen window (origin 7, the 4 new rows, 7
  rows before it: seasonal naive reaches) has fewer than 8 input rows: padded.

The commands run in this process (``cli_helpers.run_cli``): what is checked is what they
compute; their process surfaces (exit codes, streams) have their subprocess tests in
test_cli.py, test_backtest.py and test_intervals_cli.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.cli_helpers import run_cli
from tests.conftest import TINY_ARGS, seasonal_series

H, SEASON, END = 4, 7, "2020-06-30"


def _long_file(path: Path, rows: dict[str, int], new: int = 0) -> Path:
    """Series ``name`` of ``n`` rows ending on END (+ ``new`` rows after it), daily."""
    parts = []
    for k, (name, n) in enumerate(rows.items()):
        days = pd.date_range(end=pd.Timestamp(END) + pd.Timedelta(days=new), periods=n + new,
                             freq="D")
        values = seasonal_series(n + new, seed=k)  # > 0: log-transformed
        parts.append(pd.DataFrame({"series": name, "timestamp": days, "value": values}))
    pd.concat(parts).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(bundle, data): a tiny panel model with per-series log transforms."""
    work = tmp_path_factory.mktemp("short")
    data = _long_file(work / "panel.csv", {"long": 80, "short": 20})
    proc = run_cli("train", data, "--id-col", "series", "-o", work / "run", "--quiet",
                        *TINY_ARGS, "--transform", "log", "--deseasonalize", "auto")
    assert proc.returncode == 0, proc.stderr
    return work / "run" / "model", data


def test_evaluate_scores_a_short_series_on_a_padded_window(trained: tuple[Path, Path],
                                                           tmp_path: Path) -> None:
    bundle, _ = trained
    data = _long_file(tmp_path / "new.csv", {"long": 80, "short": 7}, new=H)
    proc = run_cli("evaluate", "-m", bundle, data, "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["short_history"] == ["short"]
    assert report["windows"] == 1 + 1  # each series' only window whose targets are all new
    scores = report["series"]["short"]["model"]
    assert np.isfinite(scores["mae"])


def test_backtest_keeps_a_short_series_on_padded_windows(trained: tuple[Path, Path]) -> None:
    _, data = trained
    proc = run_cli("backtest", data, "--id-col", "series", *TINY_ARGS, "--folds", "2",
                        "--refit-every", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert (report["short_history"], report["skipped"]) == (["short"], [])
    assert "backtested on padded windows" in report["warnings"][0]
    assert np.isfinite(report["series"]["short"]["overall"]["model"]["mae"])
