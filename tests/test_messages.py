"""Messages built from the data: the option that fixes it, with the file's own column names."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_helpers import run_cli


def _fixes(result: object) -> dict[str, str]:
    report = json.loads(result.stdout)  # type: ignore[attr-defined]
    return {e["column"]: e["fix"] for e in report["errors"]}


def test_grouped_numbers_with_decimal_comma_name_thousands(tmp_path: Path) -> None:
    data = tmp_path / "eu.csv"
    data.write_text("date;sales\n2024-01-01;1.012,58\n2024-01-02;998,10\n2024-01-03;1.050,00\n")
    result = run_cli("validate", data, "--decimal", ",", "--json")
    assert result.returncode == 65
    assert _fixes(result)["sales"] == ("these look like thousands separators: pass "
                                       "--thousands '.' (with --decimal ',')")
    plain = run_cli("validate", data, "--json")  # neither option given: both named
    assert "pass --decimal ',' --thousands '.'" in _fixes(plain)["sales"]
    fixed = run_cli("validate", data, "--decimal", ",", "--thousands", ".", "--json")
    assert fixed.returncode == 0, fixed.stderr


def test_a_text_column_is_named_as_an_id_or_left_out(tmp_path: Path) -> None:
    data = tmp_path / "one.csv"
    data.write_text("date,region,sales\n"
                    + "".join(f"2024-01-{d:02d},north,{d}\n" for d in range(1, 21)))
    result = run_cli("validate", data, "--json")
    assert result.returncode == 65
    assert _fixes(result) == {"region": "an id column? pass --id-col region, or --target sales"}
    assert "missing value" not in result.stderr
    labelled = tmp_path / "note.csv"
    labelled.write_text("date,region,sales,note\n"
                        + "".join(f"2024-01-{d:02d},north,{d},n{d % 3}\n" for d in range(1, 21)))
    result = run_cli("validate", labelled, "--id-col", "region", "--json")
    assert _fixes(result) == {"note": "a label, not a value? pass --target sales to leave it out"}


def test_a_sniffed_delimiter_is_reported_not_warned(tmp_path: Path) -> None:
    data = tmp_path / "semi.csv"
    data.write_text("date;sales\n" + "".join(f"2024-01-{d:02d};{d}\n" for d in range(1, 21)))
    result = run_cli("validate", data)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr
    assert "delimiter ';' (detected)" in result.stdout
    report = json.loads(run_cli("validate", data, "--json").stdout)
    assert (report["sep"], report["sep_detected"], report["fixes"]) == (";", True, [])
