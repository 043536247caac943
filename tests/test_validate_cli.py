"""`forecast validate`: the report, its JSON, its exit codes, and no TensorFlow import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from forecast_cli.data.validation import check_csv
from tests.cli_helpers import run_cli
from tests.conftest import REPO

HEAVY = ("tensorflow", "keras", "sklearn", "dask", "distributed")


def test_validate_never_imports_tensorflow(tmp_path: Path) -> None:
    """Like typer's tests/test_rich_import.py: run the command, then look at sys.modules."""
    data = tmp_path / "d.csv"
    data.write_text("ts,value\n" + "".join(f"2024-01-{d:02d},{d}\n" for d in range(1, 21)))
    code = (
        "import sys\n"
        "from forecast_cli.cli.app import app\n"
        f"app(['validate', {str(data)!r}, '--json'], standalone_mode=False)\n"
        f"print('HEAVY', sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, check=False, timeout=120)
    assert out.returncode == 0, out.stderr
    assert '"usable": true' in out.stdout
    assert "HEAVY []" in out.stdout


def test_validate_json_report_counts_gaps_and_fixes(tmp_path: Path) -> None:
    """12 daily rows with day 5 missing and two rows swapped, filled by interpolation."""
    days = [1, 2, 3, 4, 7, 6, 8, 9, 10, 11, 12, 13]  # 5 absent; 7 before 6
    body = "".join(f"2024-01-{d:02d},{2 * d}\n" for d in days)
    data = tmp_path / "g.csv"
    data.write_text("when,load\n" + body)
    result = run_cli("validate", data, "--json", "--fill", "interpolate")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["usable"] is True
    assert (report["rows_read"], report["rows"]) == (12, 13)
    assert (report["time_col"], report["value_columns"], report["freq"]) == ("when", ["load"], "D")
    assert (report["first"], report["last"]) == ("2024-01-01 00:00:00", "2024-01-13 00:00:00")
    (series,) = report["series"]
    assert series["gaps"] == [{"from": "2024-01-05 00:00:00", "steps": 1}]
    assert series["filled"] == 1
    assert any("sorted rows by time (2 rows were out of order)" in f for f in report["fixes"])
    assert any("filled 1 missing value(s)" in f for f in report["fixes"])


def test_validate_unusable_exit_65_lists_every_problem(tmp_path: Path) -> None:
    data = tmp_path / "bad.csv"
    data.write_text("ts,value\n2024-01-01,1\n2024-01-02,x\n2024-01-04,4\n")
    result = run_cli("validate", data, "--json")
    assert result.returncode == 65
    report = json.loads(result.stdout)
    assert [e["kind"] for e in report["errors"]] == ["not_a_number", "gap"]  # one pass
    assert "Error: " + str(data) in result.stderr


def test_reading_options_come_from_a_toml_config(tmp_path: Path) -> None:
    """The same names in a TOML file: a European export validates with sep/decimal set there."""
    data = tmp_path / "eu.csv"
    data.write_text("Zeit;Wert\n" + "".join(f"2024-01-{d:02d};{d},5\n" for d in range(1, 11)))
    config = tmp_path / "read.toml"
    config.write_text('sep = ";"\ndecimal = ","\n')
    result = run_cli("validate", data, "--config", config, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["value_columns"] == ["Wert"]


def test_refused_and_empty_cells_are_reported_in_the_same_run(tmp_path: Path) -> None:
    """A cell refused as not a number used to hide the empty cells until it was fixed."""
    data = tmp_path / "both.csv"
    data.write_text('ts,value\n2024-01-01,1\n2024-01-02,"12,5x"\n2024-01-03,\n2024-01-04,4\n'
                    "2024-01-05,NA\n2024-01-06,6\n")
    result = run_cli("validate", data)
    assert result.returncode == 65
    assert (f"Error: {data}, column 'value': cell(s) that are not numbers: line 3: '12,5x'"
            in result.stderr)
    assert (f"Error: {data}, column 'value': 2 missing value(s): line 4; line 6."
            in result.stderr)


def test_broken_timestamps_do_not_hide_duplicates_or_missing_values(tmp_path: Path) -> None:
    """Without a time axis gaps cannot be judged, but the rest is reported in the same pass."""
    data = tmp_path / "mixed.csv"
    data.write_text("ts,value\n2024-01-01,1\n2024-01-02,2\n2024-01-02,3\n01/04/2024,4\n"
                    "2024-01-05,\n2024-01-06,1,2\n")
    report = check_csv(data).report
    found = {f.kind: [line for line, _ in f.examples] for f in report.errors}
    assert found == {"bad_timestamp": [5], "too_many_fields": [7],
                     "duplicate_timestamp": [4], "missing_value": [6]}
