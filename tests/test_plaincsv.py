"""The pandas-free reader of plain CSVs, held to the full loader.

``read_plain`` may only accept a file that ``data.load_csv`` reads to the same timestamps and
values with no note at all (no fix, no warning) at the same frequency; everything else must be
left to the full loader (None). Each case below checks that invariant, and says which side of it
the file falls on, so the invariant is never satisfied by refusing everything.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from forecast_cli.data.frame import load_csv
from forecast_cli.data.frequency import future_index
from forecast_cli.errors import DataError
from forecast_cli.io.plaincsv import following, on_grid, plain_freq, read_plain
from forecast_cli.loadoptions import LoadOptions

MAX_ROWS = LoadOptions().max_rows


def hourly_text(n: int = 12, sep: str = "T") -> str:
    """value = 0.5·t + 1 at 2021-03-01 00:00 + t hours; a second column other = 100 - t."""
    rows = [f"2021-03-{1 + t // 24:02d}{sep}{t % 24:02d}:00:00,{0.5 * t + 1},{100 - t}"
            for t in range(n)]
    return "timestamp,value,other\n" + "\n".join(rows) + "\n"


def write(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return path


def full_agrees(path: Path, columns: list[str], freq: str) -> bool:
    """What the invariant asks of an accepted file: the full loader reads the same numbers and
    timestamps, notes nothing, and finds the same frequency."""
    plain = read_plain(path, "timestamp", columns, freq, MAX_ROWS)
    assert plain is not None
    frame = load_csv(path, columns=columns, options=LoadOptions(time_col="timestamp"))
    same_times = np.array_equal(frame.timestamps.to_numpy().astype("datetime64[s]"),
                                plain.times)
    return (same_times and np.array_equal(frame.values, plain.values) and not frame.fixes
            and not frame.warnings and frame.freq == freq)


def full_notes_or_refuses(path: Path, columns: list[str]) -> bool:
    """The other side: the full loader refuses the file or notes something about it."""
    try:
        frame = load_csv(path, columns=columns, options=LoadOptions(time_col="timestamp"))
    except DataError:
        return True
    detected = frame.report is not None and frame.report.sep_detected  # reported, not a fix
    return bool(frame.fixes or frame.warnings or detected)


def test_reads_a_plain_hourly_file_to_derived_values(tmp_path: Path) -> None:
    path = write(tmp_path, hourly_text(30))
    plain = read_plain(path, "timestamp", ["other", "value"], "h", MAX_ROWS)
    assert plain is not None
    t = np.arange(30)
    assert np.array_equal(plain.values, np.column_stack([100 - t, 0.5 * t + 1]))
    expected = np.datetime64("2021-03-01T00:00:00") + t * np.timedelta64(1, "h")
    assert np.array_equal(plain.times, expected)
    assert full_agrees(path, ["other", "value"], "h")


PLAIN: dict[str, Callable[[str], str]] = {
    "space between date and time": lambda s: hourly_text(30, sep=" "),
    "byte-order mark": lambda s: "\ufeff" + s,
    "no newline at the end": lambda s: s.rstrip("\n"),
    "columns in another order": lambda s: "\n".join(
        ",".join([r.split(",")[2], r.split(",")[0], r.split(",")[1]])
        for r in s.rstrip("\n").split("\n")) + "\n",
    "an unused column with text and empty cells": lambda s: "\n".join(
        r + ("," + ("note" if i == 0 else "" if i % 2 else "ok"))
        for i, r in enumerate(s.rstrip("\n").split("\n"))) + "\n",
    "exponents and signs": lambda s: s.replace(",1.0,", ",+1e0,").replace(",2.0,", ",2.0E0,"),
}


@pytest.mark.parametrize("case", PLAIN)
def test_plain_variants_are_read_as_the_full_loader_reads_them(tmp_path: Path,
                                                                case: str) -> None:
    path = write(tmp_path, PLAIN[case](hourly_text(30)))
    assert full_agrees(path, ["value", "other"], "h")


def _swap_rows(s: str) -> str:
    lines = s.split("\n")
    lines[3], lines[4] = lines[4], lines[3]
    return "\n".join(lines)


def _drop_row(s: str) -> str:
    lines = s.split("\n")
    return "\n".join(lines[:5] + lines[6:])


NOT_PLAIN: dict[str, Callable[[str], str | bytes]] = {
    "a gap": _drop_row,
    "rows out of order": _swap_rows,
    "a duplicated row": lambda s: s + s.split("\n")[-2] + "\n",
    "semicolons": lambda s: s.replace(",", ";"),
    "a blank line": lambda s: s.replace("\n", "\n\n", 3).replace("\n\n", "\n", 2),
    "blank lines at the end": lambda s: s + "\n\n",
    "an empty cell": lambda s: s.replace(",1.0,", ",,"),
    "nan": lambda s: s.replace(",1.0,", ",nan,"),
    "inf": lambda s: s.replace(",1.0,", ",inf,"),
    "digit grouping with an underscore": lambda s: s.replace(",100\n", ",1_00\n"),
    "a decimal comma": lambda s: s.replace(",1.0,", ",1,0,"),
    "a padded column name": lambda s: s.replace("value,", " value,", 1),
    "a column name in other case": lambda s: s.replace("value,", "Value,", 1),
    "a UTC offset": lambda s: s.replace(":00:00,", ":00:00Z,"),
    "an offset on one row": lambda s: s.replace("01:00:00,", "01:00:00+01:00,"),
    "a day out of range": lambda s: s.replace("2021-03-01T05", "2021-02-30T05"),
    "an integer float64 cannot hold": lambda s: s.replace(",100\n", ",9007199254740993\n"),
    "a row with too many fields": lambda s: s.replace(",100\n", ",100,7\n", 1),
    "a row with too few fields": lambda s: s.replace(",1.0,100", ",1.0", 1),
    "latin-1 bytes": lambda s: s.replace("other", "autre\xe9").encode("latin-1"),
    "years before 1677": lambda s: s.replace("2021-03-", "1500-03-"),
    "a value too large to scale": lambda s: s.replace(",100\n", ",1e300\n", 1),
    "Arabic-Indic digits": lambda s: s.replace(",1.0,", ",\u0661.\u0660,"),
    "a constant column": lambda s: "\n".join(
        r.rsplit(",", 1)[0] + ("," + ("other" if i == 0 else "5"))
        for i, r in enumerate(s.rstrip("\n").split("\n"))) + "\n",
}


# The full loader reads these silently too; reading them here would need its rules for
# quoting, spaces, line ends and fractions: they take the full path, with the same result.
CAUTIOUS: dict[str, Callable[[str], str | bytes]] = {
    "spaces around a cell": lambda s: s.replace(",1.0,", ", 1.0,"),
    "quoted cells": lambda s: s.replace(",1.0,", ',"1.0",'),
    "Windows line ends": lambda s: s.replace("\n", "\r\n"),
    "old Mac line ends": lambda s: s.replace("\n", "\r"),
    "fractional seconds": lambda s: s.replace(":00:00,", ":00:00.000,"),
    "mixed separators": lambda s: s.replace("T01:", " 01:"),
}


def _left_to_full_loader(tmp_path: Path, change: Callable[[str], str | bytes]) -> Path:
    text = hourly_text(30)
    changed = change(text)
    assert changed != text  # the case really changes the file
    path = write(tmp_path, changed)
    assert read_plain(path, "timestamp", ["value", "other"], "h", MAX_ROWS) is None
    return path


@pytest.mark.parametrize("case", NOT_PLAIN)
def test_what_the_full_loader_notes_or_refuses_is_left_to_it(tmp_path: Path,
                                                              case: str) -> None:
    path = _left_to_full_loader(tmp_path, NOT_PLAIN[case])
    assert full_notes_or_refuses(path, ["value", "other"])


@pytest.mark.parametrize("case", CAUTIOUS)
def test_what_needs_the_full_loaders_rules_is_left_to_it(tmp_path: Path, case: str) -> None:
    _left_to_full_loader(tmp_path, CAUTIOUS[case])


def test_two_rows_are_too_few_to_show_a_frequency(tmp_path: Path) -> None:
    path = write(tmp_path, hourly_text(2))
    assert read_plain(path, "timestamp", ["value"], "h", MAX_ROWS) is None


def test_more_rows_than_allowed_are_left_to_the_full_loader(tmp_path: Path) -> None:
    path = write(tmp_path, hourly_text(30))
    assert read_plain(path, "timestamp", ["value"], "h", 29) is None
    assert read_plain(path, "timestamp", ["value"], "h", 30) is not None


def test_a_file_at_another_frequency_is_not_plain_for_this_model(tmp_path: Path) -> None:
    path = write(tmp_path, hourly_text(30))
    assert read_plain(path, "timestamp", ["value"], "2h", MAX_ROWS) is None


@pytest.mark.parametrize(("freq", "start", "dates_only"),
                         [("MS", "2019-11-01", True), ("D", "2020-02-27", True),
                          ("15min", "2020-12-31 23:00", False), ("2h", "2020-03-01", False)])
def test_grid_and_future_match_pandas(tmp_path: Path, freq: str, start: str,
                                      dates_only: bool) -> None:
    import pandas as pd

    stamps = pd.date_range(start, periods=14, freq=freq)
    fmt = "%Y-%m-%d" if dates_only else "%Y-%m-%dT%H:%M:%S"
    text = "timestamp,value\n" + "".join(f"{t.strftime(fmt)},{i * 1.5}\n"
                                         for i, t in enumerate(stamps))
    path = write(tmp_path, text)
    assert full_agrees(path, ["value"], freq)
    times = stamps.to_numpy().astype("datetime64[s]")
    assert on_grid(times, freq)
    assert plain_freq(freq)
    expected = future_index(stamps[-1], freq, 5).to_numpy().astype("datetime64[s]")
    assert np.array_equal(following(times[-1], freq, 5), expected)


def test_mid_month_dates_are_not_on_a_month_start_grid() -> None:
    times = np.array(["2020-01-15", "2020-02-15", "2020-03-15"], dtype="datetime64[s]")
    assert not on_grid(times, "MS")
    assert not any(map(plain_freq, ("W-SUN", "QS-OCT", "B", "ms")))


# Edits a damaged or unusual export may carry: mostly digits and number characters (which
# often leave a plain file with other numbers), sometimes separators, quotes and text.
SUBSTITUTES = [*"0123456789.-+eE", ",", ";", "\n", "\r", " ", '"', "T", ":", "Z", "x",
               "\ufeff", "nan", "\n\n", "1e400", ""]


def _edit(text: str, rng: np.random.Generator, pieces: list[str]) -> str:
    at = int(rng.integers(len(text) + 1))
    piece = pieces[int(rng.integers(len(pieces)))]
    return text[:at] + piece + text[at + int(rng.integers(0, 2)):]  # insert or replace


def _damaged(rng: np.random.Generator) -> str:
    """hourly_text(12) with 1-3 edits, most inside a value cell (which then often stays a
    plain number: a different one, which both readers must read the same)."""
    lines = hourly_text(12).split("\n")
    for _ in range(int(rng.integers(1, 4))):
        if rng.random() < 0.7 and len(lines) > 1:
            row = int(rng.integers(1, len(lines)))
            cells = lines[row].split(",")
            j = int(rng.integers(1, len(cells))) if len(cells) > 1 else 0
            cells[j] = _edit(cells[j], rng, SUBSTITUTES[:15])
            lines[row] = ",".join(cells)
        else:
            lines = _edit("\n".join(lines), rng, SUBSTITUTES).split("\n")
    return "\n".join(lines)


def test_damaged_files_are_read_as_the_full_loader_reads_them_or_left_to_it(
        tmp_path: Path) -> None:
    """300 seeded random edits: read_plain accepts a damaged file only when the full loader
    reads it to the same values with no note. Both outcomes must occur often, or the test
    would prove nothing."""
    rng = np.random.default_rng(2026)
    accepted = 0
    for i in range(300):
        path = write(tmp_path, _damaged(rng), f"damaged{i}.csv")
        if read_plain(path, "timestamp", ["value", "other"], "h", MAX_ROWS) is not None:
            accepted += 1
            assert full_agrees(path, ["value", "other"], "h"), path.read_text()
    print(f"{accepted} of 300 damaged files read as plain")
    assert 30 <= accepted <= 270
