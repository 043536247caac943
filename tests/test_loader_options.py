"""The opt-in fixes of the loader, in process: each option turns a refused file into the exact
values a person would read from it (derived by hand), and records what it did."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast_cli.data.frame import load_csv
from forecast_cli.data.validation import check_csv
from forecast_cli.errors import DataError
from forecast_cli.loadoptions import LoadOptions


def _write(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def _kinds(path: Path, **opts: object) -> set[str]:
    report = check_csv(path, None, LoadOptions(**opts)).report  # type: ignore[arg-type]
    return {f.kind for f in report.errors}


def test_semicolon_and_decimal_comma(tmp_path: Path) -> None:
    path = _write(tmp_path, "ts;value\n2024-01-01;1,5\n2024-01-02;2,25\n2024-01-03;-3,0\n")
    frame = load_csv(path, options=LoadOptions(decimal=","))
    np.testing.assert_array_equal(frame.column("value"), [1.5, 2.25, -3.0])
    assert not any("delimiter" in fix for fix in frame.fixes)  # shown by validate, not warned


def test_decimal_comma_refuses_a_dot(tmp_path: Path) -> None:
    """With --decimal ',' a '1.234' is ambiguous (thousands or decimal?): refused."""
    path = _write(tmp_path, "ts;value\n2024-01-01;1,5\n2024-01-02;1.234\n2024-01-03;2\n")
    assert _kinds(path, decimal=",") == {"not_a_number"}


def test_thousands_separator(tmp_path: Path) -> None:
    path = _write(tmp_path, 'ts,value\n2024-01-01,"1,234"\n2024-01-02,"12,345.5"\n2024-01-03,7\n')
    frame = load_csv(path, options=LoadOptions(thousands=","))
    np.testing.assert_array_equal(frame.column("value"), [1234.0, 12345.5, 7.0])


def test_latin1_and_utf16_with_encoding(tmp_path: Path) -> None:
    text = "ts,température\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n"
    latin = load_csv(_write(tmp_path, text.encode("latin-1"), "l.csv"),
                     options=LoadOptions(encoding="latin-1"))
    utf16 = load_csv(_write(tmp_path, text.encode("utf-16"), "u.csv"),
                     options=LoadOptions(encoding="utf-16"))
    assert latin.columns == utf16.columns == ("température",)
    np.testing.assert_array_equal(utf16.column("température"), [1.0, 2.0, 3.0])


def test_allow_missing_then_interpolate(tmp_path: Path) -> None:
    """Line 3 lacks its value: with --allow-missing it is missing; --fill interpolate gives 2."""
    path = _write(tmp_path, "ts,value\n2024-01-01,1\n2024-01-02\n2024-01-03,3\n2024-01-04,4\n"
                  "2024-01-05,5\n")
    assert _kinds(path, allow_missing=True) == {"missing_value"}
    frame = load_csv(path, options=LoadOptions(allow_missing=True, fill="interpolate"))
    np.testing.assert_array_equal(frame.column("value"), [1.0, 2.0, 3.0, 4.0, 5.0])


def test_gap_fill_interpolate_and_ffill(tmp_path: Path) -> None:
    rest = "".join(f"2024-01-{d:02d},{d + 3}\n" for d in range(6, 11))  # 9 … 13
    path = _write(tmp_path, "ts,value\n2024-01-01,1\n2024-01-02,2\n2024-01-05,8\n" + rest)
    inter = load_csv(path, options=LoadOptions(fill="interpolate"))  # 2 of 10 rows invented
    np.testing.assert_array_equal(inter.column("value"), [1, 2, 4, 6, 8, 9, 10, 11, 12, 13])
    np.testing.assert_array_equal(inter.line_numbers, [2, 3, 0, 0, 4, 5, 6, 7, 8, 9])
    ffill = load_csv(path, options=LoadOptions(fill="ffill"))
    np.testing.assert_array_equal(ffill.column("value")[:5], [1, 2, 2, 2, 8])
    assert any("filled 2 missing value(s)" in fix for fix in inter.fixes)


def test_fill_refuses_long_gaps_and_leading_missing(tmp_path: Path) -> None:
    rows = "".join(f"2024-01-{d:02d},{d}\n" for d in (1, 2, 3, 8, 9, 10))  # 4 missing days
    path = _write(tmp_path, "ts,value\n" + rows)
    assert _kinds(path, fill="interpolate", fill_limit=3) >= {"fill_limit"}
    assert _kinds(path, fill="interpolate", fill_limit=4) == {"fill_share"}  # 4 of 10 > 20 %
    lead = _write(tmp_path, "ts,value\n2024-01-01,\n2024-01-02,2\n2024-01-03,3\n", "lead.csv")
    assert _kinds(lead, fill="ffill") >= {"fill_edge"}


def test_dedupe_mean_and_exact_duplicates(tmp_path: Path) -> None:
    path = _write(tmp_path, "ts,value\n2024-01-01,1\n2024-01-02,2\n2024-01-02,5\n2024-01-03,3\n")
    frame = load_csv(path, options=LoadOptions(dedupe="mean"))
    np.testing.assert_array_equal(frame.column("value"), [1.0, 3.5, 3.0])
    same = _write(tmp_path, "ts,value\n2024-01-01,1\n2024-01-02,2\n2024-01-02,2\n2024-01-03,3\n",
                  "same.csv")
    frame = load_csv(same)
    np.testing.assert_array_equal(frame.column("value"), [1.0, 2.0, 3.0])
    assert frame.fixes == ("dropped 1 exact duplicate row(s)",)


def test_epoch_seconds_and_wrong_unit(tmp_path: Path) -> None:
    path = _write(tmp_path, "ts,value\n1700000000,1\n1700003600,2\n1700007200,3\n")
    frame = load_csv(path, options=LoadOptions(time_unit="s"))
    assert frame.timestamps[0] == pd.Timestamp("2023-11-14 22:13:20")  # 1.7e9 s after 1970
    assert frame.freq == "h"
    assert frame.tz == "UTC"
    assert _kinds(path, time_unit="ms") == {"epoch_range"}  # 1.7e9 ms = 1970-01-20


def test_dayfirst_and_its_warning(tmp_path: Path) -> None:
    path = _write(tmp_path, "ts,value\n01/02/2024,1\n01/03/2024,2\n01/04/2024,3\n")
    frame = load_csv(path, options=LoadOptions(dayfirst=True))
    assert list(frame.timestamps.month) == [2, 3, 4]
    assert any("≤ 12" in w for w in frame.warnings)
    with pytest.raises(DataError, match="day/month order"):
        load_csv(path, options=LoadOptions(dayfirst=True, strict=True))


def test_utc_offsets_kept_as_utc(tmp_path: Path) -> None:
    path = _write(tmp_path, "ts,value\n2024-10-27T01:00+02:00,1\n2024-10-27T02:00+02:00,2\n"
                  "2024-10-27T02:00+01:00,3\n")
    frame = load_csv(path)
    assert list(frame.timestamps.hour) == [23, 0, 1]  # 01:00+02 = 23:00 UTC of the day before


def test_dst_spring_forward_shift(tmp_path: Path) -> None:
    path = _write(tmp_path, "ts,value\n2024-03-31 01:00,1\n2024-03-31 01:30,2\n"
                  "2024-03-31 02:30,3\n2024-03-31 03:30,4\n2024-03-31 04:00,5\n")
    assert _kinds(path, tz="Europe/Berlin") == {"dst_gap"}
    frame = load_csv(path, options=LoadOptions(tz="Europe/Berlin", dst_gap="shift_forward"))
    # 02:30 local does not exist → 03:00 local = 01:00 UTC; 01:00 CET = 00:00 UTC
    assert list(frame.timestamps.strftime("%H:%M")) == ["00:00", "00:30", "01:00", "01:30",
                                                        "02:00"]
    assert any("shifted 1 nonexistent" in fix for fix in frame.fixes)


def test_quoted_newline_keeps_line_numbers(tmp_path: Path) -> None:
    """A quoted cell spanning lines 3–4 pushes the next row to line 5."""
    path = _write(tmp_path, 'ts,value,note\n2024-01-01,1,a\n2024-01-02,2,"x\ny"\n'
                  "2024-01-03,oops,c\n")
    report = check_csv(path, ["value"], LoadOptions()).report
    (finding,) = report.errors
    assert finding.examples == [(5, "oops")]


def test_constant_is_a_warning_unless_strict(tmp_path: Path) -> None:
    path = _write(tmp_path, "ts,value\n" + "".join(f"2024-01-0{d},5\n" for d in range(1, 6)))
    assert load_csv(path).warnings
    with pytest.raises(DataError, match="constant"):
        load_csv(path, options=LoadOptions(strict=True))


def test_problems_of_every_kind_in_one_pass(tmp_path: Path) -> None:
    path = _write(tmp_path, "ts,a,b\n2024-01-01,1,x\n2024-01-02,inf,2\n2024-01-03,3,4,5\n")
    kinds = _kinds(path)
    assert kinds == {"not_a_number", "infinite", "too_many_fields"}


def test_directory_and_unreadable_paths_are_input_errors(tmp_path: Path) -> None:
    from forecast_cli.errors import InputMissingError

    with pytest.raises(InputMissingError, match="is a directory"):
        check_csv(tmp_path, None, LoadOptions())
    with pytest.raises(InputMissingError, match="file not found"):
        check_csv(tmp_path / "nope.csv", None, LoadOptions())


def test_settings_names_are_the_load_options_names() -> None:
    """One vocabulary: every reading option is a Settings field (so TOML and batch use it)."""
    from dataclasses import fields

    from forecast_cli.settings import Settings, build_settings

    settings_names = {f.name for f in fields(Settings)}
    assert {f.name for f in fields(LoadOptions)} <= settings_names
    s = build_settings({"decimal": ",", "sep": ";", "fill": "ffill", "dedupe": "mean"})
    opts = LoadOptions.from_settings(s)
    assert (opts.decimal, opts.sep, opts.fill, opts.dedupe) == (",", ";", "ffill", "mean")
