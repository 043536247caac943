"""The loader on real files: what it accepts, what it fixes, and what it refuses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from forecast_cli.data.frame import load_csv
from forecast_cli.errors import DataError, InputMissingError
from tests.conftest import SAMPLE, write_series


def test_sample_data_loads_as_monthly() -> None:
    frame = load_csv(SAMPLE)
    assert frame.columns == ("co2",)
    assert frame.time_col == "month"
    assert frame.freq == "MS"
    assert len(frame.values) == 452
    assert np.isfinite(frame.values).all()
    assert frame.line_numbers[0] == 2  # header is line 1


def test_time_column_is_detected_and_values_kept_exactly(tmp_path: Path) -> None:
    path = write_series(tmp_path / "a.csv", [1.5, 2.5, 3.5, 4.5], freq="h", time_col="when")
    frame = load_csv(path)
    assert frame.time_col == "when"
    assert frame.freq == "h"
    assert frame.values[:, 0].tolist() == [1.5, 2.5, 3.5, 4.5]


def test_unsorted_rows_are_sorted_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text("t,v\n2024-01-03,3\n2024-01-01,1\n2024-01-02,2\n2024-01-04,4\n")
    frame = load_csv(path)
    assert frame.values[:, 0].tolist() == [1, 2, 3, 4]
    assert frame.line_numbers.tolist() == [3, 4, 2, 5]
    assert frame.fixes == ("sorted rows by time (3 rows were out of order)",)


def test_semicolon_file_is_sniffed(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("t;v\n2024-01-01;1\n2024-01-02;2\n2024-01-03;3\n")
    assert load_csv(path).values[:, 0].tolist() == [1, 2, 3]


def test_missing_file_is_input_missing(tmp_path: Path) -> None:
    with pytest.raises(InputMissingError, match="file not found"):
        load_csv(tmp_path / "nope.csv")


def test_bad_cells_are_all_reported_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("t,v\n2024-01-01,1\n2024-01-02,abc\n2024-01-03,\n2024-01-04,inf\n"
                    "2024-01-05,5\n")
    with pytest.raises(DataError) as err:
        load_csv(path)
    msg = str(err.value)
    assert "3 problems" in msg  # every kind in one pass
    assert "column 'v': cell(s) that are not numbers: line 3: 'abc'" in msg
    assert "column 'v': infinite or overflowing value(s): line 5: 'inf'" in msg
    # the refused cell is NaN as well, but only the empty one counts as missing
    assert "column 'v': missing value(s): line 4." in msg


def test_gap_is_refused_with_its_timestamp(tmp_path: Path) -> None:
    path = tmp_path / "gap.csv"
    path.write_text("t,v\n2024-01-01,1\n2024-01-02,2\n2024-01-04,4\n2024-01-05,5\n")
    with pytest.raises(DataError, match=r"gap.*1 missing step.*2024-01-03"):
        load_csv(path)
