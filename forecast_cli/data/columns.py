"""Which column is what: the time column, the id column and the value columns.

Names are matched exactly, then ignoring case and surrounding spaces (a recorded fix); a name
that is still not found is refused with the list of columns and the closest match. The time
column, unless named, is the one column whose first rows parse as ISO-8601.
"""

from __future__ import annotations

import csv
import difflib
import io

import pandas as pd

from forecast_cli.errors import ConfigError, DataError
from forecast_cli.io import csvread
from forecast_cli.io.findings import Findings
from forecast_cli.loadoptions import LoadOptions

SAMPLE_ROWS = 20


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


def sample(tf: csvread.TextFile, sep: str, names: list[str]) -> dict[str, pd.Series]:
    rows = list(csv.reader(io.StringIO(tf.head), delimiter=sep))[1:SAMPLE_ROWS + 1]
    return {n: pd.Series([r[i] if i < len(r) else "" for r in rows], dtype=object)
            for i, n in enumerate(names)}


def _looks_like_time(cells: pd.Series) -> bool:
    sample = cells[cells.str.strip() != ""]
    if sample.empty or sample.str.fullmatch(r"\s*[-+]?\d+(\.\d*)?([eE][-+]?\d+)?\s*").all():
        return False
    parsed = pd.to_datetime(sample.str.strip(), errors="coerce", format="ISO8601", utc=True)
    return bool(parsed.notna().mean() >= 0.5)


def pick_time_col(source: str, sample: dict[str, pd.Series], opts: LoadOptions,
                  findings: Findings) -> str:
    names = list(sample)
    if not len(sample[names[0]]):
        raise DataError(f"{source}: no data rows (only a header). Fix: export the data rows "
                        "too.")
    if opts.time_col is not None:
        return resolve_column(source, opts.time_col, names, "time", findings)
    if opts.time_unit is not None or opts.time_format is not None or opts.dayfirst:
        return names[0]  # a non-ISO time column is the first one unless named
    found = [n for n in names if _looks_like_time(sample[n])]
    if len(found) == 1:
        return found[0]
    if found:
        raise DataError(f"{source}: several columns look like timestamps ({', '.join(found)})"
                        ". Fix: choose one with --time-col.")
    first = sample[names[0]].str.strip()
    if len(first) and first.str.fullmatch(r"[-+]?\d+").all():
        raise DataError(f"{source}, line 2, column {names[0]!r}: {first.iloc[0]!r} is a number, "
                        f"not a timestamp. Fix: if the column holds Unix epoch times, pass "
                        f"--time-col {names[0]} --time-unit s (or ms); convert Excel serial "
                        "day numbers to dates first.")
    shown = f" (line 2 has {first.iloc[0]!r})" if len(first) else ""
    raise DataError(f"{source}: no column parses as ISO-8601 timestamps{shown}. Fix: name the "
                    "time column with --time-col and its format with --time-format or "
                    f"--dayfirst. Columns: {', '.join(names)}.")


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
