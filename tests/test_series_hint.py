"""A long file of several series read without --id-col: exit 65 naming the id column.

It used to end in ``ZeroDivisionError`` (exit 1): read as one series, every timestamp repeats,
so the most common step between sorted timestamps was 0 and ``infer_frequency`` returned a
zero frequency ("0h") that ``pd.date_range`` divides by.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast_cli.data.frequency import infer_frequency
from forecast_cli.data.validation import check_csv
from tests.cli_helpers import run_cli
from tests.conftest import REPO

MACRO = "sample_data/macro_quarterly_long.csv"
MACRO_MESSAGE = (f"Error: {MACRO}: timestamps repeat: it holds several series. Column 'series' "
                 "looks like a series id; pass --id-col series.\n")


@pytest.mark.parametrize("command", ["validate", "train", "backtest"])
def test_long_file_without_id_col_names_the_id_column(command: str, tmp_path: Path) -> None:
    extra = ["--output-dir", str(tmp_path / "run")] if command == "train" else []
    res = run_cli(command, MACRO, *extra, cwd=REPO)
    assert res.returncode == 65, res.stderr
    assert res.stderr == MACRO_MESSAGE
    assert not (tmp_path / "run").exists()


def test_the_same_file_with_id_col_is_usable() -> None:
    res = run_cli("validate", MACRO, "--id-col", "series", "--quiet", cwd=REPO)
    assert res.returncode == 0, res.stderr


def _stores(rows: int = 30) -> pd.DataFrame:
    """Three stores' daily sales, written as people export them: sorted by date, then store."""
    days = pd.date_range("2024-01-01", periods=rows, freq="D")
    frames = [pd.DataFrame({"date": days, "units": 10.0 * k + np.arange(rows),
                            "store name": f"shop {k}"}) for k in (1, 2, 3)]
    return pd.concat(frames).sort_values(["date", "store name"], kind="stable")


def test_detection_is_by_content_not_name_and_with_any_target(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    _stores().to_csv(path, index=False)
    res = run_cli("validate", path, "--target", "units")
    assert res.returncode == 65, res.stderr
    assert res.stderr == (f"Error: {path}: timestamps repeat: it holds several series. Column "
                          "'store name' looks like a series id; pass --id-col 'store name'.\n")


def test_a_note_column_on_a_duplicated_row_is_no_series_id(tmp_path: Path) -> None:
    """One series with one conflicting duplicate: the duplicate is the problem reported."""
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=40, freq="D"),
                          "value": np.arange(40.0), "note": "ok"})
    dup = frame.iloc[[20]].assign(value=-1.0, note="revised")
    path = tmp_path / "revised.csv"
    pd.concat([frame, dup]).to_csv(path, index=False)
    report = check_csv(path, ["value"]).report
    assert [f.kind for f in report.errors] == ["duplicate_timestamp"]
    assert report.freq == "D"


def test_numeric_ids_get_the_duplicate_error_not_a_crash(tmp_path: Path) -> None:
    """No text column to name: the repeats are reported as duplicates, on a daily grid."""
    frame = _stores().drop(columns="store name")
    frame["store"] = np.tile([1, 2, 3], 30)
    path = tmp_path / "numeric_ids.csv"
    frame.to_csv(path, index=False)
    res = run_cli("validate", path, "--target", "units")
    assert res.returncode == 65
    assert "unexpected failure" not in res.stderr
    assert "60 duplicate timestamp(s) with different values" in res.stderr


def test_infer_frequency_counts_repeated_timestamps_once() -> None:
    stacked = pd.DatetimeIndex(np.repeat(pd.date_range("1959-01-01", periods=8, freq="QS"), 3))
    assert infer_frequency(stacked) == infer_frequency(stacked.unique())
    assert infer_frequency(pd.DatetimeIndex(["2024-01-01"] * 4)) is None
