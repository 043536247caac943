"""Which column is what: the time column, the id column and the value columns.

Names are matched exactly, then ignoring case and surrounding spaces (a recorded fix); a name
that is still not found is refused with the list of columns and the closest match. The time
column, unless named, is the one column whose first rows parse as ISO-8601.
"""

from __future__ import annotations

import difflib
import re

import numpy as np
import pandas as pd

from forecast_cli.errors import ConfigError, DataError
from forecast_cli.io.digits import ascii_digits
from forecast_cli.io.findings import Findings
from forecast_cli.loadoptions import LoadOptions

SAMPLE_ROWS = 20
_NUMBER_LIKE = r"\s*[-+]?\d+(\.\d*)?([eE][-+]?\d+)?\s*"


def resolve_column(source: str, wanted: str, names: list[str], what: str,
                   findings: Findings) -> str:
    """Match exactly, then ignoring case and surrounding spaces (a recorded fix)."""
    if wanted in names:
        return wanted
    folded = [n for n in names if n.lower() == wanted.strip().lower()]
    if len(folded) == 1:
        findings.applied(f"matched {what} column {wanted!r} to {folded[0]!r} (ignoring case)")
        return folded[0]
    if len(folded) > 1:
        raise DataError(f"{source}: {what} column {wanted!r} is ambiguous: it matches "
                        f"{', '.join(map(repr, folded))} ignoring case. Fix: use the exact name.")
    close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise DataError(f"{source}: {what} column {wanted!r} not found. Available columns: "
                    f"{', '.join(names)}.{hint}")


def _time_like(sample: dict[str, list[str]]) -> list[str]:
    """The columns whose non-empty sample cells are not all numbers and at least half parse as
    ISO-8601. Every column in one pass: a wide file has thousands of them."""
    names = list(sample)
    text = pd.Series([c.strip() for n in names for c in sample[n]], dtype=object)
    owner = np.repeat(np.arange(len(names)), [len(sample[n]) for n in names])
    odd = ~text.str.isascii().to_numpy(dtype=bool)
    if odd.any():  # other scripts' digits: converted when read, as a listed fix
        text[odd] = text[odd].map(ascii_digits)
    filled = (text != "").to_numpy(dtype=bool)
    number = filled & text.str.fullmatch(_NUMBER_LIKE).to_numpy(dtype=bool)
    parsed = filled & np.asarray(pd.to_datetime(text, errors="coerce", format="ISO8601",
                                                utc=True).notna(), dtype=bool)
    count = [np.bincount(owner, weights=w, minlength=len(names)) for w in (filled, number,
                                                                            parsed)]
    return [n for n, full, num, ok in zip(names, *count, strict=True)
            if full and num < full and ok >= 0.5 * full]


def pick_time_col(source: str, sample: dict[str, list[str]], opts: LoadOptions,
                  findings: Findings, unit: str = "line") -> str:
    """The time column: as named, else the one whose sample parses as timestamps. ``unit``:
    "line" (a CSV, its first data row is line 2) or "row" (Parquet: row 1)."""
    names = list(sample)
    if not len(sample[names[0]]):
        raise DataError(f"{source}: no data rows (only a header). Fix: export the data rows "
                        "too.")
    if opts.time_col is not None:
        return resolve_column(source, opts.time_col, names, "time", findings)
    if opts.time_unit is not None or opts.time_format is not None or opts.dayfirst:
        return names[0]  # a non-ISO time column is the first one unless named
    found = _time_like(sample)
    if len(found) == 1:
        return found[0]
    if found:
        raise DataError(f"{source}: several columns look like timestamps ({', '.join(found)})"
                        ". Fix: choose one with --time-col.")
    first = [c.strip() for c in sample[names[0]]]
    if first and all(re.fullmatch(r"[-+]?\d+", c) for c in first):
        first_row = "line 2" if unit == "line" else "row 1"
        raise DataError(f"{source}, {first_row}, column {names[0]!r}: {first[0]!r} is a number, "
                        f"not a timestamp. Fix: if the column holds Unix epoch times, pass "
                        f"--time-col {names[0]} --time-unit s (or ms); convert Excel serial "
                        "day numbers to dates first.")
    guess = _format_guess(sample)
    if guess is not None:
        col, cell, fmt = guess
        named = "" if col == names[0] else f"--time-col {col} "
        raise DataError(f"{source}, column {col!r}: {cell!r} is not an ISO-8601 timestamp. "
                        f"Fix: pass {named}--time-format '{fmt}' (day first, as the dots "
                        "say), or export ISO dates (YYYY-MM-DD).")
    shown = f" ({'line 2' if unit == 'line' else 'row 1'} has {first[0]!r})" if first else ""
    raise DataError(f"{source}: no column parses as ISO-8601 timestamps{shown}. Fix: name the "
                    "time column with --time-col and its format with --time-format or "
                    f"--dayfirst. Columns: {', '.join(names)}.")


_DOTTED = re.compile(r"\d{1,2}\.\d{1,2}\.\d{4}(?: (\d{1,2}:\d{2})(:\d{2})?)?")


def _format_guess(sample: dict[str, list[str]]) -> tuple[str, str, str] | None:
    """(column, first cell, strftime format) of the first column whose sampled cells are all
    dotted day-first dates (``31.12.2024``, ``31.12.2024 13:00``, as German, Austrian and Swiss
    exports write them: unambiguous, the day always comes first), else None."""
    for col, cells in sample.items():
        cells = [c.strip() for c in cells if c.strip()]
        found = [_DOTTED.fullmatch(c) for c in cells]
        if cells and all(found):
            m = found[0]
            assert m is not None
            clock = "" if m.group(1) is None else " %H:%M" + (":%S" if m.group(2) else "")
            return col, cells[0], "%d.%m.%Y" + clock
    return None


def value_columns(source: str, names: list[str], tcol: str, id_col: str | None,
                   columns: list[str] | None, findings: Findings) -> list[str]:
    if columns:
        wanted = [resolve_column(source, c, names, "value", findings) for c in columns]
        twice = [c for c in wanted if wanted.count(c) > 1]
        if twice:  # e.g. --target Value,value: one column, matched ignoring case
            given = [c for c, w in zip(columns, wanted, strict=True) if w == twice[0]]
            raise ConfigError(f"`target` and `features` name column {twice[0]!r} more than "
                              f"once: {', '.join(map(repr, given))}. Fix: name each column "
                              "once.")
    else:
        wanted = [n for n in names if n not in (tcol, id_col)]
    if not wanted:
        raise DataError(f"{source}: no value column besides the time column {tcol!r}. Fix: "
                        "the file needs a time column and at least one numeric column (is the "
                        "delimiter right? pass --sep).")
    for c in wanted:
        if c in (tcol, id_col):
            raise DataError(f"{source}: column {c!r} is the time or id column; it cannot "
                            "also be a value column.")
    return wanted
