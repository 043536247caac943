"""Issue 14, data section: the bad inputs an adversarial run found beyond docs/bad-inputs.md.

Each case writes a real file (bytes exactly as written) and runs the CLI, ``validate`` unless
the case is about another command, in this process (``cli_helpers.run_cli``: the Python
start-up was most of each case's time; ``test_the_real_command_gives_the_same_bytes`` holds the
subprocess to the same output); the values read are compared with the ones the test wrote,
through the library (``load_csv``). The catalogue with the exit codes and messages is
docs/data-checks.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecast_cli.data.frame import load_csv
from forecast_cli.data.validation import check_csv
from forecast_cli.errors import ConfigError
from forecast_cli.io import textfile
from forecast_cli.loadoptions import LoadOptions
from forecast_cli.ops.jobs import load_batch
from forecast_cli.settings import build_settings
from tests.batch_helpers import write_batch
from tests.cli_helpers import run_cli
from tests.conftest import TINY_ARGS, run_forecast

DAYS = pd.date_range("2024-01-01", periods=12, freq="D")
VALUES = np.round(np.linspace(-3.5, 8.25, len(DAYS)), 2)  # (12,) distinct, exact in decimal


def _rows(values: np.ndarray = VALUES) -> list[str]:
    return ["ts,value", *(f"{d:%Y-%m-%d},{float(v)!r}" for d, v in zip(DAYS, values, strict=True))]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _validate(path: Path, *args: str) -> tuple[int, str, dict[str, object] | None]:
    """Exit code, stderr and the JSON report of ``forecast validate PATH --json``."""
    proc = run_cli("validate", path, "--json", *args)
    report = json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc.returncode, proc.stderr, report


# --- line endings ------------------------------------------------------------------------------

ENDINGS = {"lf": ["\n"], "crlf": ["\r\n"], "cr": ["\r"], "mixed": ["\r\n", "\n", "\r"]}


def _joined(lines: list[str], ending: str) -> bytes:
    """Each line ended by the ending's line breaks in turn (mixed: CRLF, LF, CR, CRLF …)."""
    breaks = ENDINGS[ending]
    return "".join(line + breaks[i % len(breaks)] for i, line in enumerate(lines)).encode()


@pytest.mark.parametrize("ending", ["cr", "mixed"])
def test_every_line_ending_reads_the_same_values(tmp_path: Path, ending: str) -> None:
    """Excel for Mac writes CR only; files edited on two systems mix CRLF and LF."""
    path = _write(tmp_path / f"{ending}.csv", _joined(_rows(), ending))
    code, stderr, report = _validate(path)
    assert code == 0, stderr
    assert report is not None
    assert (report["rows"], report["freq"]) == (len(DAYS), "D")
    assert (report["first"], report["last"]) == (str(DAYS[0]), str(DAYS[-1]))
    assert report["fixes"] == []  # nothing to fix: a line break is a line break
    lf = load_csv(_write(tmp_path / "lf.csv", _joined(_rows(), "lf")))
    for frame in (load_csv(path), load_csv(_write(tmp_path / "crlf.csv",
                                                  _joined(_rows(), "crlf")))):
        np.testing.assert_array_equal(frame.values, lf.values)
        np.testing.assert_array_equal(frame.column("value"), VALUES)
        assert list(frame.timestamps) == list(lf.timestamps) == list(DAYS)
        np.testing.assert_array_equal(frame.line_numbers, np.arange(2, len(DAYS) + 2))


def test_line_numbers_count_every_kind_of_line_break(tmp_path: Path) -> None:
    """A bad cell, a ragged row and a quoted cell holding a line break: each is named by the
    line an editor shows it on (header = line 1), in a CR-only file and in a mixed one."""
    lines = _rows()
    lines[3] = f"{DAYS[2]:%Y-%m-%d},x"  # line 4
    lines[5] = f"{DAYS[4]:%Y-%m-%d},1,2"  # line 6
    lines[7] = f'{DAYS[6]:%Y-%m-%d},"7\r\n8"'  # lines 8 and 9; the next row is line 10
    lines[9] = f"{DAYS[8]:%Y-%m-%d},y"  # line 11
    expected = {"not_a_number": [4, 8, 11], "too_many_fields": [6]}
    path = _write(tmp_path / "cr.csv", _joined(lines, "cr"))
    code, stderr, report = _validate(path)
    assert code == 65
    assert report is not None
    assert {f["kind"]: [e["line"] for e in f["examples"]] for f in report["errors"]} == expected
    assert f"{path}, column 'value': 3 cell(s) that are not numbers: line 4: 'x'" in stderr
    mixed = check_csv(_write(tmp_path / "mixed.csv", _joined(lines, "mixed"))).report
    assert {f.kind: [line for line, _ in f.examples] for f in mixed.errors} == expected


@given(st.lists(st.sampled_from([b"ab", b"1,2", b"\r", b"\n", b"\r\n", b""]), max_size=40),
       st.lists(st.integers(1, 7), min_size=40, max_size=40))
def test_line_breaks_and_the_longest_line_do_not_depend_on_blocks(parts: list[bytes],
                                                                   cuts: list[int]) -> None:
    """The scan reads 1 MiB blocks: a CRLF cut in two still counts as one line break."""
    data = b"".join(parts)
    stats, at = textfile._Lines(), 0
    for size in [*cuts, len(data)]:  # blocks of 1 to 7 bytes, then the rest
        if at < len(data):
            stats.add(data[at:at + size])
        at += size
    lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    assert stats.breaks == textfile.count_breaks(data) == len(lines) - 1
    assert stats.longest == max(len(line) for line in lines)


# --- long headers ------------------------------------------------------------------------------

def test_a_header_longer_than_a_parser_block_is_read(tmp_path: Path) -> None:
    """A header of 1.2 MB (20,000 columns): longer than the 64 KiB head and than the CSV
    parser's 1 MiB block. It used to say "no data rows"."""
    n = 20_000
    names = [f"sensor_{i:05d}_{'x' * 48}" for i in range(n)]
    cells = np.arange(n) % 10
    body = [f"{d:%Y-%m-%d}," + ",".join(map(str, (cells + i) % 10)) for i, d in enumerate(DAYS)]
    lines = [",".join(["ts", *names]), *body]
    path = _write(tmp_path / "wide.csv", "\r\n".join(lines).encode() + b"\r\n")
    assert len(lines[0]) > 1 << 20
    code, stderr, report = _validate(path, "--target", names[-1])
    assert code == 0, stderr
    assert report is not None
    assert (report["rows"], report["value_columns"]) == (12, [names[-1]])
    frame = load_csv(path, [names[-1]])
    np.testing.assert_array_equal(frame.column(names[-1]), (cells[-1] + np.arange(12)) % 10)


# --- timestamps outside what int64 nanoseconds hold ---------------------------------------------

def test_timestamps_beyond_1677_to_2262_are_refused_naming_the_rows(tmp_path: Path) -> None:
    lines = ["ts,value", "2024-01-01,1", "1500-01-02,2", "2024-01-03,3", "2300-01-01,4"]
    path = _write(tmp_path / "old.csv", "\n".join(lines).encode() + b"\n")
    code, stderr, report = _validate(path)
    assert code == 65, stderr
    assert report is not None
    assert [f["kind"] for f in report["errors"]] == ["time_range"]  # nothing else follows
    assert (f"{path}, column 'ts': 2 timestamp(s) outside 1677-09-21 … 2262-04-11, the range "
            "forecast holds (nanoseconds in 64 bits): line 3: '1500-01-02'; line 5: "
            "'2300-01-01'.") in stderr


def test_an_offset_that_carries_a_timestamp_past_2262_is_refused(tmp_path: Path) -> None:
    """2262-04-11T20:00-05:00 is in range as written, past the last nanosecond in UTC."""
    stamps = [f"2262-04-{d:02d}T20:00-05:00" for d in range(8, 13)]
    text = "ts,value\n" + "".join(f"{t},{i}\n" for i, t in enumerate(stamps))
    report = check_csv(_write(tmp_path / "late.csv", text.encode())).report
    ((kind, shown),) = [(f.kind, f.examples) for f in report.errors]
    assert (kind, shown) == ("time_range", [(5, stamps[3]), (6, stamps[4])])


# --- values whose scaling would overflow --------------------------------------------------------

def _huge(tmp_path: Path) -> tuple[Path, list[int]]:
    """60 daily rows of a weekly ramp with ±1e308 and 1e101 in them; 1e100 is still accepted."""
    values = [f"{i % 7 + 1}" for i in range(60)]
    values[20], values[40], values[41], values[50] = "1e100", "1e308", "-1e308", "1.5e101"
    days = pd.date_range("2024-01-01", periods=60, freq="D")
    text = "ts,value\n" + "".join(f"{d:%Y-%m-%d},{v}\n" for d, v in zip(days, values,
                                                                       strict=True))
    return _write(tmp_path / "huge.csv", text.encode()), [42, 43, 52]  # lines: row + 2


def test_huge_values_are_refused_by_validate_naming_row_column_value(tmp_path: Path) -> None:
    path, lines = _huge(tmp_path)
    code, stderr, report = _validate(path)
    assert code == 65
    assert report is not None
    (error,) = report["errors"]
    assert (error["kind"], error["column"], error["count"]) == ("too_large", "value", 3)
    assert [(e["line"], e["value"]) for e in error["examples"]] == list(
        zip(lines, ["1e308", "-1e308", "1.5e101"], strict=True))
    assert f"{path}, column 'value': 3 value(s) beyond ±1e+100" in stderr


def test_train_refuses_huge_values_before_training(tmp_path: Path) -> None:
    """They used to pass and train on NaN (the scaler's variance overflows)."""
    path, _ = _huge(tmp_path)
    proc = run_cli("train", path, *TINY_ARGS, "-o", tmp_path / "out", cwd=tmp_path)
    assert proc.returncode == 65, proc.stderr
    assert "line 42: '1e308'" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_the_real_command_gives_the_same_bytes(tmp_path: Path) -> None:
    """A train refused before training and a validate report, as subprocesses: what ``run_cli``
    gives in this process, exit code, stdout and stderr."""
    path, _ = _huge(tmp_path)
    cases = [("train", path, *TINY_ARGS, "-o", tmp_path / "out"),
             ("validate", _write(tmp_path / "d.csv", "\n".join(_rows()).encode() + b"\n"),
              "--json")]
    for args in cases:
        real = run_forecast(*args, cwd=tmp_path)
        assert real.returncode == (65 if args[0] == "train" else 0), real.stderr
        here = run_cli(*args, cwd=tmp_path)
        assert (here.returncode, here.stdout, here.stderr) == (
            real.returncode, real.stdout, real.stderr)
    assert not (tmp_path / "out").exists()


# --- duplicate names ---------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    (("--target", "value,value"), "Error: `target` names 'value' more than once. Got "
                                  "'value,value'."),
    (("--target", "Value,value"), "Error: `target` and `features` name column 'value' more "
                                  "than once: 'Value', 'value'. Fix: name each column once."),
])
def test_a_column_named_twice_as_target_is_a_usage_error(tmp_path: Path, args: tuple[str, ...],
                                                         message: str) -> None:
    path = _write(tmp_path / "d.csv", "\n".join(_rows()).encode() + b"\n")
    proc = run_cli("validate", path, *args)
    assert proc.returncode == 2
    assert proc.stderr.strip() == message


def test_a_target_repeated_as_a_feature_is_a_usage_error() -> None:
    with pytest.raises(ConfigError, match=r"^`features` must not repeat a `target` column "
                       r"\(targets are inputs already\). Got 'value' in both.$"):
        build_settings({"target": "value", "features": "load,value"})


def test_duplicate_columns_in_the_header_are_all_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.csv", b"ts,value,x,value,x, value\n2024-01-01,1,2,3,4,5\n")
    code, stderr, _ = _validate(path)
    assert code == 65
    assert stderr.strip() == (f"Error: {path}, line 1: duplicate column 'value' (columns 2, 4, "
                              "6); 'x' (columns 3, 5). Fix: rename the columns so that each "
                              "name is unique; pandas would silently rename the second to "
                              "'value.1'.")


# --- digits of other scripts -------------------------------------------------------------------

ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULL_WIDTH = str.maketrans("0123456789.-", "０１２３４５６７８９.-")


def test_digits_of_other_scripts_are_converted_and_listed_as_a_fix(tmp_path: Path) -> None:
    """Arabic-Indic timestamps and values, full-width values: the same numbers as ASCII."""
    lines = _rows()
    lines[2] = lines[2].translate(ARABIC)  # timestamp and value, line 3
    ts, value = lines[5].split(",")
    lines[5] = f"{ts},{value.translate(FULL_WIDTH)}"  # line 6
    path = _write(tmp_path / "digits.csv", "\n".join(lines).encode() + b"\n")
    code, stderr, report = _validate(path)
    assert code == 0, stderr
    assert report is not None
    ascii_ts, ascii_value = _rows()[2].split(",")
    arabic_ts, arabic_value = lines[2].split(",")
    assert report["fixes"] == [
        f"converted digits of another script to ASCII 0-9 in column 'ts', 1 cell(s): line 3: "
        f"{arabic_ts!r} → {ascii_ts!r}",
        f"converted digits of another script to ASCII 0-9 in column 'value', 2 cell(s): "
        f"line 3: {arabic_value!r} → {ascii_value!r}; line 6: {lines[5].split(',')[1]!r} → "
        f"{value!r}"]
    np.testing.assert_array_equal(load_csv(path).column("value"), VALUES)


def test_a_decimal_separator_of_another_script_is_refused(tmp_path: Path) -> None:
    """U+066B ARABIC DECIMAL SEPARATOR is no digit: the cell is refused, not guessed."""
    lines = _rows()
    lines[4] = f"{DAYS[3]:%Y-%m-%d},١٫٥"
    report = check_csv(_write(tmp_path / "sep.csv", "\n".join(lines).encode() + b"\n")).report
    assert [(f.kind, f.examples) for f in report.errors] == [("not_a_number", [(5, "١٫٥")])]
    assert report.fixes == []  # a cell refused is not listed as converted


# --- reading options: one check for the CLI, a TOML config and a batch job -----------------------

OPTIONS = {
    "sep": ("ab", "`sep` must be one character that is not a letter, digit, quote or line "
                  "break, e.g. ',', ';', '|' or tab. Got 'ab'."),
    "encoding": ("rot13", "`encoding` must be a text encoding, e.g. utf-8, latin-1, cp1252, "
                          "utf-16. Got 'rot13'."),
    "freq": ("0D", "`freq` must be a pandas frequency with a positive step, e.g. h, 15min, D, "
                   "W, MS. Got '0D'."),
    "time_format": ("%Q", "`time_format` is not a usable strptime format ('Q' is a bad "
                          "directive in format '%Q'). Got '%Q'."),
}


@pytest.mark.parametrize("name", list(OPTIONS))
def test_a_bad_reading_option_is_a_usage_error(tmp_path: Path, name: str) -> None:
    """They used to fail with exit 1 (a TypeError, a codec error, a ZeroDivisionError)."""
    value, message = OPTIONS[name]
    path = _write(tmp_path / "d.csv", "\n".join(_rows()).encode() + b"\n")
    proc = run_cli("validate", path, f"--{name.replace('_', '-')}", value)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"Error: {message}"


def test_a_bad_reading_option_in_a_config_file_gives_the_same_message(tmp_path: Path) -> None:
    value, message = OPTIONS["freq"]
    path = _write(tmp_path / "d.csv", "\n".join(_rows()).encode() + b"\n")
    config = tmp_path / "c.toml"
    config.write_text(f'freq = "{value}"\n')
    proc = run_cli("validate", path, "--config", config)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"Error: {message}"


def test_a_bad_reading_option_in_a_batch_job_refuses_that_job(tmp_path: Path) -> None:
    jobs = {name: {"data": "d.csv", name: value} for name, (value, _) in OPTIONS.items()}
    spec = load_batch(write_batch(tmp_path / "b.toml", {**jobs, "good": {"data": "g.csv"}}))
    assert [j.name for j in spec.jobs] == ["good"]
    for name, (_, message) in OPTIONS.items():
        assert spec.invalid[name] == f"{tmp_path / 'b.toml'}: job {name!r}: {message}"


@pytest.mark.parametrize("value", ["\\t", "tab", ";", "|"])
def test_the_usual_separators_pass(value: str) -> None:
    assert build_settings({"sep": value}).sep == value


@pytest.mark.parametrize(("name", "value"), [("sep", "ab"), ("encoding", "base64"),
                                           ("freq", "0D")])
def test_the_library_refuses_the_same_options_as_usage_errors(tmp_path: Path, name: str,
                                                               value: str) -> None:
    """Callers of ``load_csv`` / ``check_csv`` get the settings' check, not a crash."""
    with pytest.raises(ConfigError, match=f"^`{name}` must be"):
        LoadOptions(**{name: value})  # type: ignore[arg-type]
    if name == "encoding":
        path = _write(tmp_path / "d.csv", "\n".join(_rows()).encode() + b"\n")
        with pytest.raises(ConfigError, match=r"^`encoding` must be a text encoding"):
            textfile.scan_file(path, value)


@pytest.mark.parametrize("fmt", ["", "%Y" * 3, "%Y-%m-%d", "%d.%m.%Y %H:%M%z"])
def test_time_formats_are_checked_before_reading(fmt: str) -> None:
    """An empty format or a repeated directive failed mid-read (exit 1) or read nothing."""
    if fmt in ("", "%Y" * 3):
        with pytest.raises(ConfigError, match=r"^`time_format` "):
            LoadOptions(time_format=fmt)
    else:
        assert LoadOptions(time_format=fmt).time_format == fmt


def test_a_frequency_far_finer_than_the_data_is_refused_before_the_grid(tmp_path: Path) -> None:
    """--freq 1ns on daily rows asked for a 10^15-row grid (a MemoryError, exit 1)."""
    path = _write(tmp_path / "d.csv", "\n".join(_rows()).encode() + b"\n")
    span = (DAYS[-1] - DAYS[0]).value + 1  # rows of a 1 ns grid from the first day to the last
    code, err, _ = _validate(path, "--freq", "1ns")
    assert code == 65
    assert f"frequency '1ns' would put {span:,} rows on the grid" in err
