"""A German spreadsheet export (``;`` between fields, ``,`` decimal mark, ``.`` thousands,
``31.12.2024`` dates) read step by step as a user would: each refusal names the one option
that fixes it, and with all of them the file reads as the same numbers written plainly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from forecast_cli.data.frame import load_csv
from forecast_cli.loadoptions import LoadOptions
from tests.conftest import run_forecast

WIDE = {"COLUMNS": "250"}
N = 60


def _german(value: float) -> str:
    """1234.5 → "1.234,50"."""
    return f"{value:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def test_each_refusal_names_the_option_that_fixes_it(tmp_path: Path) -> None:
    days = pd.date_range("2024-01-01", periods=N, freq="D")
    values = np.round(4 * (1000 + 12.5 * np.arange(N) + 50 * np.sin(np.arange(N)))) / 4
    export = tmp_path / "umsatz.csv"
    export.write_text("Datum;Umsatz\n" + "".join(f"{d:%d.%m.%Y};{_german(v)}\n"
                                                 for d, v in zip(days, values, strict=True)),
                      encoding="utf-8")
    dates = run_forecast("validate", export, "-q", env=WIDE)
    assert dates.returncode == 65
    assert dates.stderr.strip() == (
        f"Error: {export}, column 'Datum': '01.01.2024' is not an ISO-8601 timestamp. Fix: "
        "pass --time-format '%d.%m.%Y' (day first, as the dots say), or export ISO dates "
        "(YYYY-MM-DD).")
    numbers = run_forecast("validate", export, "--time-format", "%d.%m.%Y", "-q", env=WIDE)
    assert numbers.returncode == 65
    assert "line 2: '1.000,00'" in numbers.stderr
    assert "Fix: these look like European numbers: pass --decimal ',' --thousands '.'" in \
        numbers.stderr
    read = run_forecast("validate", export, "--time-format", "%d.%m.%Y", "--decimal", ",",
                        "--thousands", ".", "--json")
    assert read.returncode == 0, read.stderr
    report = json.loads(read.stdout)
    assert (report["sep"], report["rows"], report["freq"]) == (";", N, "D")
    plain = tmp_path / "plain.csv"
    pd.DataFrame({"Datum": days, "Umsatz": values}).to_csv(plain, index=False)
    same = json.loads(run_forecast("validate", plain, "--json").stdout)
    assert report["series"] == same["series"]
    assert (report["first"], report["last"]) == (same["first"], same["last"])
    german = load_csv(export, options=LoadOptions(time_format="%d.%m.%Y", decimal=",",
                                                  thousands="."))
    assert german.fingerprint() == load_csv(plain).fingerprint()  # the same numbers
