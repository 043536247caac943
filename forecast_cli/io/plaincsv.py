"""Read a *plain* CSV without pandas or pyarrow: the common clean case, for predict's quick path.

Importing pandas (with pyarrow) costs ~0.5 s and ~140 MB, more than the rest of a cron
prediction together (issue 6). Most files a scheduled ``forecast predict`` reads are plain:
UTF-8, comma-separated, unquoted, one ISO-8601 timestamp and plain decimal numbers per row,
sorted, evenly spaced. This module reads exactly those and answers None for anything else,
without saying why: the caller then runs the full loader (``data.load_csv``), which accepts
or refuses the file with its usual messages. So the quick path never changes what a file
means, only how fast a plain one is read; tests hold it to the full loader's results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Larger files are left to the full loader, which streams them in bounded memory.
MAX_BYTES = 32 << 20
_SEPARATORS = (";", "\t", "|")  # the full loader's other delimiter candidates
BIG_INT = 2**53  # the full loader warns about integers float64 cannot hold: not plain
_STEP = re.compile(r"(\d*)(s|min|h|D)")
MONTH_START = "MS"
_UNIT_SECONDS = {"s": 1, "min": 60, "h": 3600, "D": 86400}
# A plain number has only these characters (no spaces, "nan", "inf", "1_000", "١٢"); whether
# they form a number is left to Python's float parser, whose grammar on them is the full
# loader's ([-+] digits [. digits] [e [-+] digits]) and which rounds correctly, as Arrow does.
_NUMBER_TEXT = re.compile(r"[0-9.+eE-]*")
# ISO-8601 as the full loader reads it without a note: date, or date and time to the minute or
# second, one separator for the whole file; no offsets, no fractions, no spaces around.
_DIGIT, _TIME_LENGTHS = "d", (10, 16, 19)
_TIME_TEMPLATE = "dddd-dd-dd?dd:dd:dd"
# the whole seconds of int64 nanoseconds (pandas' Timestamp.min … max); the full loader
# refuses a timestamp outside them
_FIRST, _LAST = np.datetime64("1677-09-21T00:12:44", "s"), np.datetime64("2262-04-11T23:47:16",
                                                                         "s")


@dataclass(frozen=True)
class PlainSeries:
    """One evenly spaced series read from a plain CSV.

    times : (n,) datetime64[s], one step of the frequency apart.
    values : (n, k) float64, finite; column j is the j-th of the columns asked for.
    """

    times: np.ndarray
    values: np.ndarray


def _fixed_step(freq: str) -> np.timedelta64 | None:
    """The step of a fixed frequency ("h", "15min", "D", "30s"); None for any other."""
    match = _STEP.fullmatch(freq)
    if match is None:
        return None
    count = int(match.group(1) or 1)
    return np.timedelta64(count * _UNIT_SECONDS[match.group(2)], "s") if count else None


def plain_freq(freq: str) -> bool:
    """Frequencies whose grid numpy can check and extend exactly as pandas does: fixed steps
    and month starts ("MS"). Weeks, quarters, business days… go to the full loader."""
    return freq == MONTH_START or _fixed_step(freq) is not None


def on_grid(times: np.ndarray, freq: str) -> bool:
    """times (n,) datetime64[s]: strictly one ``freq`` step apart, from row to row."""
    if freq == MONTH_START:
        months = times.astype("datetime64[M]")
        return bool((months.astype("datetime64[s]") == times).all()
                    and (np.diff(months) == np.timedelta64(1, "M")).all())
    step = _fixed_step(freq)
    return step is not None and bool((np.diff(times) == step).all())


def following(last: np.datetime64, freq: str, horizon: int) -> np.ndarray:
    """(horizon,) datetime64[s]: the timestamps after ``last`` (on the grid of ``freq``)."""
    ahead = np.arange(1, horizon + 1)
    if freq == MONTH_START:
        months: np.ndarray = last.astype("datetime64[M]") + ahead
        return months.astype("datetime64[s]")
    step = _fixed_step(freq)
    if step is None:
        raise ValueError(f"not a plain frequency: {freq!r}")
    return last + step * ahead


def steps_between(a: np.datetime64, b: np.datetime64, freq: str) -> int:
    """Steps of a plain ``freq`` from ``a`` to ``b`` on its grid (negative when b is
    earlier): as ``frequency.steps_between`` counts them, without pandas."""
    if freq == MONTH_START:
        return int((b.astype("datetime64[M]") - a.astype("datetime64[M]")).astype(np.int64))
    step = _fixed_step(freq)
    if step is None:
        raise ValueError(f"not a plain frequency: {freq!r}")
    return int((b - a) // step)


def _text(path: Path) -> str | None:
    """The file's text when it is small, UTF-8 and free of quotes and carriage returns."""
    if str(path) == "-":  # standard input: the full loader spools it (``stdin``)
        return None
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            return None
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if any(c in text for c in ('"', "\r", "\x00")):
        return None
    return text.removeprefix("\ufeff")


def _header(line: str, time_col: str, columns: list[str]) -> list[int] | None:
    """Positions of the time column and the value columns; None unless the header is plain:
    comma the likeliest delimiter, names unique, non-empty, unpadded and matched exactly."""
    if any(line.count(c) > line.count(",") for c in _SEPARATORS):
        return None
    names = line.split(",")
    if len(set(names)) != len(names) or any(not n or n != n.strip() for n in names):
        return None
    wanted = [time_col, *columns]
    if any(name not in names for name in wanted) or len(set(wanted)) != len(wanted):
        return None
    return [names.index(name) for name in wanted]


def _fields(body: str, n_fields: int) -> list[str] | None:
    """Every cell of the data lines, row by row, when each line (and there is no blank one)
    has the header's number of fields. ``body`` ends with a newline."""
    raw = np.frombuffer(body.encode("utf-8"), dtype=np.uint8)
    newlines = np.flatnonzero(raw == ord("\n"))
    commas = np.cumsum(raw == ord(","))[newlines]  # commas before each line's end
    if not len(newlines) or (np.diff(commas, prepend=0) != n_fields - 1).any():
        return None
    return body[:-1].replace("\n", ",").split(",")


def _codes(cells: list[str]) -> np.ndarray:
    """(n,) strings → (n, width) their code points, zero-padded: checked without a loop."""
    text = np.array(cells)
    return text.view(np.uint32).reshape(len(cells), -1)


def _times(cells: list[str], freq: str) -> np.ndarray | None:
    """(n,) datetime64[s] of plain ISO timestamps one ``freq`` step apart; else None."""
    codes = _codes(cells)
    width = codes.shape[1]
    if width not in _TIME_LENGTHS or not codes[:, -1].all():  # one length throughout
        return None
    template = _TIME_TEMPLATE[:width]
    digits = np.array([c == _DIGIT for c in template])
    fixed = np.array([c not in (_DIGIT, "?") for c in template])
    literal = np.array([ord(c) for c in template])
    ok = bool(((codes[:, digits] >= ord("0")) & (codes[:, digits] <= ord("9"))).all()
              and (codes[:, fixed] == literal[fixed]).all())
    if width > 10:  # the date-time separator: "T" or " ", the same in every row
        ok = ok and codes[0, 10] in (ord("T"), ord(" ")) and bool((codes[:, 10] == codes[0, 10])
                                                                  .all())
    if not ok:
        return None
    try:
        times = np.array(cells, dtype="datetime64[s]")
    except ValueError:  # a day or an hour out of range: the full loader names it
        return None
    # the full loader infers a frequency from three rows or more
    if len(times) < 3 or not on_grid(times, freq) or times[0] < _FIRST or times[-1] > _LAST:
        return None
    return times


def _values(columns: list[list[str]]) -> np.ndarray | None:
    """(n, k) float64 of plain, finite, non-constant numbers; else None."""
    out = np.empty((len(columns[0]), len(columns)))
    for j, cells in enumerate(columns):
        if not _NUMBER_TEXT.fullmatch("".join(cells)):
            return None
        try:
            out[:, j] = np.fromiter(map(float, cells), np.float64, len(cells))
        except ValueError:  # e.g. "1-2", "e5", "": the full loader names the cell
            return None
    if not np.isfinite(out).all() or (np.abs(out) >= BIG_INT).any():
        return None
    if (out.min(axis=0) == out.max(axis=0)).any():
        return None  # a constant column: the full loader warns about it
    return out


def read_plain(path: Path, time_col: str, columns: list[str], freq: str,
               max_rows: int) -> PlainSeries | None:
    """``path`` as one series of ``columns`` evenly spaced at ``freq``, or None when the file
    is anything but plain (see the module docstring) or has more than ``max_rows`` rows."""
    text = _text(Path(path)) if plain_freq(freq) else None
    if text is None:
        return None
    header, _, body = text.partition("\n")
    at = _header(header, time_col, columns)
    if at is None or not body:
        return None
    n_fields = header.count(",") + 1
    cells = _fields(body if body.endswith("\n") else body + "\n", n_fields)
    if cells is None or len(cells) // n_fields > max_rows:
        return None
    times = _times(cells[at[0]::n_fields], freq)
    values = None if times is None else _values([cells[i::n_fields] for i in at[1:]])
    return None if times is None or values is None else PlainSeries(times, values)
