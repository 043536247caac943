"""One test per case of docs/bad-inputs.md: write the bad file, run the CLI, check the exit
code and the key words of the message (file, line, column, offending value, fix).

Most cases run ``forecast validate``; case 29 runs ``train``, which refuses a short series
before any fit; case 35 lives in test_predict_checks.py because it needs a trained bundle. Each
case runs the CLI in this process (``cli_helpers.run_cli``: a Python start-up per case was
most of this module's time); ``test_the_real_command_prints_the_same`` runs cases of every
kind (refused, passed, train, missing file) as real subprocesses and requires the same exit
code, stdout and stderr, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli
from tests.conftest import TINY_ARGS, run_forecast

DAYS = "".join(f"2024-01-{d:02d},{d}\n" for d in range(1, 11))  # 10 clean daily rows


@dataclass(frozen=True)
class Case:
    """A bad file (text, or bytes as written), the CLI arguments, what must come back."""

    content: str | bytes | None  # None: no file at all
    code: int
    words: tuple[str, ...]  # each must appear in stderr (or stdout for --json runs)
    args: tuple[str, ...] = ()
    command: str = "validate"
    absent: tuple[str, ...] = field(default=())  # must NOT appear


def _hourly(start: str, values: list[str], fmt: str = "%Y-%m-%d %H:%M") -> str:
    import pandas as pd

    times = pd.date_range(start, periods=len(values), freq="h")
    return "".join(f"{t.strftime(fmt)},{v}\n" for t, v in zip(times, values, strict=True))


BERLIN_FALL = ("ts,value\n2024-10-27 00:00,1\n2024-10-27 01:00,2\n2024-10-27 02:00,3\n"
               "2024-10-27 02:00,4\n2024-10-27 03:00,5\n2024-10-27 04:00,6\n")
BERLIN_SPRING = ("ts,value\n2024-03-31 00:00,1\n2024-03-31 01:00,2\n2024-03-31 02:00,3\n"
                 "2024-03-31 03:00,4\n2024-03-31 04:00,5\n")

CASES: dict[str, Case] = {
    "01-empty-file": Case(b"", 65, ("file is empty",)),
    "02-header-only": Case("ts,value\n", 65, ("no data rows",)),
    "03-missing-file": Case(None, 66, ("file not found",)),
    "04-latin1": Case("ts,température\n2024-01-01,1\n".encode("latin-1"), 65,
                      ("line 1", "byte offset 7", "0xe9", "--encoding latin-1")),
    "05-utf8-bom": Case(("\ufeffts,value\n" + DAYS).encode("utf-8"), 0, ('"time_col": "ts"',),
                        ("--json",)),
    "06-utf16": Case(("ts,value\n" + DAYS).encode("utf-16"), 65,
                     ("UTF-16", "FF FE", "--encoding utf-16")),
    "07-semicolon-decimal-comma": Case("ts;value\n2024-01-01;1,5\n2024-01-02;2,5\n", 65,
                                       ("line 2", "column 'value'", "'1,5'", "--decimal ','",
                                        "delimiter ';'")),
    "08-mixed-delimiters": Case("ts,value\n2024-01-01,1\n2024-01-02;2\n2024-01-03,3\n", 65,
                                ("line 3", "'2024-01-02;2'", "fewer fields", "--sep")),
    "09-extra-field": Case("ts,value\n2024-01-01,1\n2024-01-02,2,7\n2024-01-03,3\n", 65,
                           ("line 3", "'2024-01-02,2,7'", "more fields", "--sep")),
    "10-missing-field": Case("ts,value\n2024-01-01,1\n2024-01-02\n2024-01-03,3\n", 65,
                             ("line 3", "fewer fields", "--allow-missing")),
    "11-quoted-newline": Case('ts,value\n2024-01-01,1\n2024-01-02,"1\n2"\n2024-01-03,3\n', 65,
                              ("line 3", "column 'value'", "not numbers", "'1\\n2'")),
    "12-duplicate-columns": Case("ts,value,value\n2024-01-01,1,2\n", 65,
                                 ("line 1", "duplicate column 'value'", "rename")),
    "13-header-whitespace-case": Case("ts , Value \n" + DAYS, 0,
                                      ("stripped spaces", "' Value ' → 'Value'",
                                       "matched value column 'value' to 'Value'"),
                                      ("--target", "value")),
    "14-non-numeric": Case("ts,value\n2024-01-01,1\n2024-01-02,n/a?\n2024-01-03,-\n"
                           "2024-01-04,1.2.3\n", 65,
                           ("3 cell(s) that are not numbers", "line 3: 'n/a?'", "line 4: '-'",
                            "line 5: '1.2.3'", "column 'value'", "--fill")),
    "15-thousands": Case('ts,value\n2024-01-01,"1,234"\n2024-01-02,"2,345"\n', 65,
                         ("line 2", "'1,234'", "--thousands ','")),
    "16-missing-values": Case("ts,value\n2024-01-01,1\n2024-01-02,\n2024-01-03,NA\n"
                              "2024-01-04,null\n2024-01-05,NaN\n2024-01-06,6\n", 65,
                              ("4 missing value(s)", "line 3", "line 6", "--fill interpolate")),
    "17-infinity": Case("ts,value\n2024-01-01,inf\n2024-01-02,-Infinity\n2024-01-03,1e400\n", 65,
                        ("3 infinite", "line 2: 'inf'", "line 4: '1e400'", "never clipped")),
    "18-mixed-time-formats": Case("ts,value\n2024-01-01,1\n2024-01-02,2\n01/03/2024,3\n", 65,
                                  ("line 4", "'01/03/2024'", "ISO-8601", "--time-format")),
    "19-ambiguous-day-month": Case("ts,value\n" + "".join(f"01/{m:02d}/2024,{m}\n"
                                                          for m in range(1, 13)), 65,
                                   ("line 2", "'01/01/2024'", "--dayfirst", "--time-format")),
    "20-epoch-seconds": Case("ts,value\n1700000000,1\n1700003600,2\n", 65,
                             ("line 2", "'1700000000'", "--time-unit s")),
    "21-empty-timestamp": Case("ts,value\n2024-01-01,1\n,2\n2024-01-03,3\n", 65,
                               ("line 3", "without a timestamp", "column 'ts'")),
    "22-mixed-utc-offsets": Case("ts,value\n2024-10-27T01:00+02:00,1\n2024-10-27T02:00+02:00,2\n"
                                 "2024-10-27T02:00+01:00,3\n2024-10-27T03:00+01:00,4\n", 0,
                                 ('"tz": "UTC"', '"freq": "h"', "converted timestamps"),
                                 ("--json",)),
    "23-naive-and-aware": Case("ts,value\n2024-01-01T00:00,1\n2024-01-02T00:00+00:00,2\n"
                               "2024-01-03T00:00,3\n", 65,
                               ("line 3", "mix time-zone-aware and naive", "--tz")),
    "24-dst-fall-back": Case(BERLIN_FALL, 0, ("resolved 2 ambiguous DST time(s)",
                                              "Europe/Berlin", "usable"),
                             ("--tz", "Europe/Berlin")),
    "25-dst-spring-forward": Case(BERLIN_SPRING, 65, ("line 4", "2024-03-31 02:00:00",
                                                      "do not exist", "--dst-gap shift_forward"),
                                  ("--tz", "Europe/Berlin")),
    "26-duplicate-timestamps": Case("ts,value\n2024-01-01,1\n2024-01-02,2\n2024-01-02,5\n"
                                    "2024-01-03,3\n", 65,
                                    ("line 4", "duplicate timestamp", "--dedupe")),
    "27-unsorted": Case("ts,value\n2024-01-03,3\n2024-01-01,1\n2024-01-02,2\n2024-01-04,4\n", 0,
                        ("sorted rows by time", "3 rows were out of order")),
    "28-gaps": Case("ts,value\n2024-01-01,1\n2024-01-02,2\n2024-01-05,5\n2024-01-06,6\n"
                    "2024-01-07,7\n", 65,
                    ("column 'ts'", "line 3", "2 missing step(s) from 2024-01-03",
                     "--fill interpolate")),
    # lookback 8, horizon 4, fractions 0.7/0.15/0.15: n = 26 is the first n with a train
    # window (round(0.7n) ≥ 8 + 4), a validation window (round(0.15n) ≥ 4) and a test window
    # (n - round(0.7n) - round(0.15n) ≥ 4): n = 25 leaves 25 - 18 - 4 = 3 test rows.
    "29-too-short": Case("ts,value\n" + DAYS, 65, ("too short", "need ≥ 26 rows", "got 10"),
                         TINY_ARGS, command="train"),
    "30-constant": Case("ts,value\n" + "".join(f"2024-01-{d:02d},5\n" for d in range(1, 11)),
                        65, ("constant (5)", "column 'value'"), ("--strict",)),
    "31-too-many-rows": Case("ts,value\n" + DAYS, 65, ("more than 5 data rows", "--max-rows"),
                             ("--max-rows", "5")),
    "32-nul-bytes": Case(b"ts,value\n2024-01-01,1\x00\n", 65, ("NUL byte", "offset 21",
                                                               "not a text CSV")),
    "33-big-integers": Case("ts,value\n2024-01-01,9007199254740993\n2024-01-02,2\n", 0,
                            ("line 2", "'9007199254740993'", "2^53")),
    "34-wrong-target": Case("ts,value\n" + DAYS, 65, ("'valeu' not found", "ts, value",
                                                      "Did you mean 'value'?"),
                            ("--target", "valeu")),
}


def _case_args(name: str, tmp_path: Path) -> tuple[Path, list[str]]:
    """Case ``name``'s file written under ``tmp_path``; (its path, the command line)."""
    case = CASES[name]
    path = tmp_path / f"case{name[:2]}.csv"
    if isinstance(case.content, bytes):
        path.write_bytes(case.content)
    elif case.content is not None:
        path.write_text(case.content, encoding="utf-8", newline="")
    extra = ("--output-dir", str(tmp_path / "out")) if case.command == "train" else ()
    return path, [case.command, str(path), *case.args, *extra]


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    path, args = _case_args(name, tmp_path)
    result = run_cli(*args, cwd=tmp_path)
    text = result.stdout + result.stderr
    assert result.returncode == case.code, text
    assert str(path) in text or case.command == "train"
    for word in case.words:
        assert word in text, f"{word!r} not in:\n{text}"
    for word in case.absent:
        assert word not in text
    if case.code == 65:
        assert "Error: " in result.stderr


def test_a_directory_is_refused_like_a_missing_file(tmp_path: Path) -> None:
    """Case 3's other forms: a directory named like a CSV. (An unreadable file cannot be made
    here: the tests run as root, who reads any file whatever its mode.)"""
    folder = tmp_path / "data.csv"
    folder.mkdir()
    result = run_cli("validate", folder)
    assert result.returncode == 66
    assert f"{folder}: is a directory" in result.stderr


@pytest.mark.parametrize("names", [("07-semicolon-decimal-comma", "05-utf8-bom"),
                                   ("29-too-short", "03-missing-file")])
def test_the_real_command_prints_the_same(names: tuple[str, ...], tmp_path: Path) -> None:
    """``python -m forecast_cli`` in a subprocess gives what the in-process runs above were
    checked on: the same exit code, stdout and stderr (a refusal, a passed file with --json,
    train's refusal, a missing file)."""
    for name in names:
        _, args = _case_args(name, tmp_path)
        real = run_forecast(*args, cwd=tmp_path)
        here = run_cli(*args, cwd=tmp_path)
        assert (here.returncode, here.stdout, here.stderr) == (
            real.returncode, real.stdout, real.stderr), name
        assert real.returncode == CASES[name].code
