"""Parquet files and ``-`` (standard input) wherever a CSV is read: same checks, same report.

Real files, the real CLI in a subprocess (standard input, a FIFO), or in this process for
refusals of named files (``cli_helpers.run_cli``). One tiny training in the module (on a
Parquet file, in this process); everything else is ``validate`` and ``predict``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.cli_helpers import run_cli
from tests.conftest import TINY_ARGS, run_forecast, seasonal_series, write_series

SAME = ("rows_read", "rows", "columns", "time_col", "value_columns", "freq", "first", "last",
        "tz", "series_count", "series", "errors", "warnings")


def _validate(path: Path | str, *args: str, stdin: Any = None) -> tuple[int, dict[str, Any],
                                                                         str]:
    proc = run_forecast("validate", path, "--json", *args, stdin=stdin)
    return proc.returncode, json.loads(proc.stdout) if proc.stdout else {}, proc.stderr


def _frame(n: int = 60) -> pd.DataFrame:
    return pd.DataFrame({"day": pd.date_range("2024-01-01", periods=n, freq="D"),
                         "load": seasonal_series(n), "count": np.arange(n, dtype=np.int64)})


def test_a_parquet_file_validates_with_the_report_of_the_same_csv(tmp_path: Path) -> None:
    frame = _frame()
    frame.loc[10, "load"] = np.nan  # a missing value: reported as in the CSV
    frame.to_csv(tmp_path / "d.csv", index=False)
    frame.to_parquet(tmp_path / "d.data", index=False)  # Parquet by its magic, not its name
    code_csv, csv, _ = _validate(tmp_path / "d.csv", "--fill", "interpolate")
    code_pq, pq, err = _validate(tmp_path / "d.data", "--fill", "interpolate")
    assert (code_csv, code_pq) == (0, 0), err
    assert {k: pq[k] for k in (*SAME, "fixes")} == {k: csv[k] for k in (*SAME, "fixes")}
    assert (pq["format"], csv["format"]) == ("parquet", "csv")
    assert (pq["rows"], pq["freq"], pq["value_columns"]) == (60, "D", ["load", "count"])
    assert pq["series"][0]["missing_cells"]["load"] == 1
    code, _, err = _validate(tmp_path / "d.data")  # without --fill: the CSV's error, by row
    assert code == 65
    assert "column 'load': missing value(s): row 11." in err


def test_zone_aware_parquet_timestamps_are_read_as_csv_offsets_are(tmp_path: Path) -> None:
    frame = _frame(48)
    frame["day"] = pd.date_range("2024-03-30", periods=48, freq="h", tz="Europe/Berlin")
    frame.to_csv(tmp_path / "z.csv", index=False)  # written with their UTC offsets
    frame.to_parquet(tmp_path / "z.parquet", index=False)
    (_, csv, _), (code, pq, err) = _validate(tmp_path / "z.csv"), _validate(tmp_path / "z.parquet")
    assert code == 0, err
    assert {k: pq[k] for k in SAME} == {k: csv[k] for k in SAME}
    assert pq["tz"] == "UTC"


def test_a_bad_cell_in_a_parquet_text_column_names_file_row_and_value(tmp_path: Path) -> None:
    frame = _frame(30)
    frame["load"] = [f"{v:.3f}" for v in frame["load"]]
    frame.loc[6, "load"] = "12,5x"  # the 7th data row
    path = tmp_path / "bad.parquet"
    frame.to_parquet(path, index=False)
    proc = run_cli("validate", path)
    assert proc.returncode == 65
    assert f"Error: {path}, column 'load': cell(s) that are not numbers: row 7: '12,5x'." \
        in proc.stderr
    assert "line" not in proc.stderr.split("Fix")[0]


def test_csv_on_standard_input_gives_the_report_of_the_file(tmp_path: Path) -> None:
    path = write_series(tmp_path / "d.csv", seasonal_series(50))
    _, from_file, _ = _validate(path)
    with path.open("rb") as fh:
        code, piped, err = _validate("-", stdin=fh)
    assert code == 0, err
    assert piped["file"] == "<stdin>"
    assert {k: piped[k] for k in SAME} == {k: from_file[k] for k in SAME}
    with (tmp_path / "bad.csv").open("w+b") as fh:  # a problem names <stdin> and the line
        fh.write(path.read_bytes().replace(b"\n2020-01-05,", b"\n2020-01-05,x", 1))
        fh.seek(0)
        proc = run_forecast("validate", "-", stdin=fh)
    assert proc.returncode == 65
    assert "Error: <stdin>, column 'value': cell(s) that are not numbers: line 6:" in proc.stderr
    assert "forecast-stdin" not in proc.stderr + proc.stdout  # never the temporary copy


def test_empty_standard_input_is_refused_clearly(tmp_path: Path) -> None:
    proc = run_forecast("validate", "-")  # stdin is /dev/null
    assert proc.returncode == 65
    assert proc.stderr.startswith("Error: <stdin>: standard input is empty (0 bytes).")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_named_as_a_path_is_still_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    proc = run_forecast("validate", fifo, timeout=60)
    assert proc.returncode == 66
    assert "not a regular file" in proc.stderr


def test_standard_input_cannot_be_a_batch_jobs_data(tmp_path: Path) -> None:
    batch = tmp_path / "b.toml"
    batch.write_text('[jobs.daily]\ndata = "-"\n')
    proc = run_forecast("batch", batch)
    assert proc.returncode == 2
    assert '`data` = "-" (standard input)' in proc.stderr


@pytest.fixture(scope="module")
def parquet_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The one training of the module, on a Parquet file: (that file, the same as CSV, bundle)."""
    d = tmp_path_factory.mktemp("pq")
    csv = write_series(d / "daily.csv", seasonal_series(120))
    parquet = d / "daily.parquet"
    pd.read_csv(csv, parse_dates=["timestamp"]).to_parquet(parquet, index=False)
    proc = run_cli("train", parquet, *TINY_ARGS, "-o", d / "run", "--quiet")
    assert proc.returncode == 0, proc.stderr
    return parquet, csv, d / "run" / "model"


def test_training_on_parquet_and_predicting_from_standard_input(
        parquet_model: tuple[Path, Path, Path]) -> None:
    parquet, csv, model = parquet_model
    from_file = run_forecast("predict", "-m", model, csv, "-o", "-")
    assert from_file.returncode == 0, from_file.stderr
    with csv.open("rb") as fh:
        piped = run_forecast("predict", "-m", model, "-", "-o", "-", stdin=fh)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == from_file.stdout
    with parquet.open("rb") as fh:  # Parquet on standard input too (validate: no TensorFlow)
        code, report, err = _validate("-", stdin=fh)
    assert code == 0, err
    assert (report["file"], report["format"], report["rows"]) == ("<stdin>", "parquet", 120)


def test_a_cut_parquet_file_is_refused_as_one(tmp_path: Path) -> None:
    whole = tmp_path / "d.parquet"
    _frame(30).to_parquet(whole, index=False)
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(whole.read_bytes()[:500])  # an interrupted copy: no footer
    proc = run_cli("validate", cut)
    assert proc.returncode == 65
    assert "starts like a Parquet file but does not end like one" in proc.stderr
