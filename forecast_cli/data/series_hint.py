"""A long file of several series read without ``--id-col``: say so, and name its id column.

Stacked series repeat their timestamps, once per series. Read as one series they look like
conflicting duplicate timestamps (and the id column like a value column that is not a number),
which is not what the user needs to hear. Before those checks run, ``refuse_stacked`` looks for
a column that explains the repeats and refuses the file with its name.

A column is taken for a series id when

- it is text: most of its first rows' non-empty cells are not numbers;
- it has at least two values and each value holds at least two rows;
- it tells the repeats apart: of the rows whose timestamp repeats an earlier row's, at most
  one in ten also repeats that row's value of the column (within a series, timestamps are
  unique);
- the repeats come in blocks, as long files are written: the column's values each sit in one
  run of rows (sorted by series, at most two runs per value on average), or most timestamps
  repeat (sorted by time, one row per series at each timestamp).

The last condition keeps a text column such as a "revised" note, which happens to differ on
the one duplicated row, from being mistaken for an id. The test is by content, never by name.
"""

from __future__ import annotations

import re
import shlex

import numpy as np
import pandas as pd

from forecast_cli.errors import DataError
from forecast_cli.io import convert, parquetread, tables
from forecast_cli.io.findings import Findings
from forecast_cli.loadoptions import LoadOptions

_NUMBER = re.compile(r"\s*[-+]?(?:\d+[.,]?\d*|[.,]\d+)(?:[eE][-+]?\d+)?\s*")
_WORD = re.compile(r"[\w .&'-]*[^\W\d_][\w .&'-]*")  # a name: north, store_7, New York
EXPLAINED = 0.9  # share of the repeated timestamps the id column must tell apart


def _is_text(cells: list[str]) -> bool:
    """Most non-empty, non-NA cells of a sample are not numbers."""
    text = pd.Series(cells, dtype=object).astype(str).str.strip()
    text = text[~text.isin(convert.NA_VARIANTS)]
    if text.empty:
        return False
    return bool(np.mean([_NUMBER.fullmatch(c) is None for c in text]) > 0.5)


def _repeats(ns: np.ndarray) -> bool:
    """Whether a timestamp (NaT left out) occurs twice. ns (n,) int64. O(n) when sorted."""
    ns = ns[ns != convert.NAT]
    if np.all(np.diff(ns) > 0):
        return False
    return bool(len(np.unique(ns)) < len(ns))


def _codes(tab: tables.Table, columns: list[str], lines: np.ndarray,
           opts: LoadOptions) -> dict[str, np.ndarray]:
    """Each column's values as integer codes (n,), aligned with the rows read (``lines``);
    -1 where the row was not read (a blank line)."""
    order = np.argsort(lines, kind="stable")
    sorted_lines = lines[order]
    out = {c: np.full(len(lines), -1, np.int64) for c in columns}
    seen: dict[str, dict[str, int]] = {c: {} for c in columns}
    scratch = Findings(tab.label)  # the checks that count have reported these already
    for chunk in tab.chunks(columns, scratch, opts.max_rows, opts.allow_missing):
        at = np.minimum(np.searchsorted(sorted_lines, chunk.lines), len(lines) - 1)
        found = sorted_lines[at] == chunk.lines
        rows = order[at[found]]
        for c in columns:
            cells = chunk.cells[c]
            if parquetread.is_typed(cells):
                cells = parquetread.as_text(cells)
            text = pd.Series(cells.to_numpy(zero_copy_only=False),
                             dtype=object).astype(str).str.strip()[found]
            local, uniques = pd.factorize(text)
            mapping = np.array([seen[c].setdefault(str(u), len(seen[c])) for u in uniques],
                               dtype=np.int64)
            out[c][rows] = mapping[local] if len(mapping) else -1
    return out


def _runs(a: np.ndarray) -> int:
    """Number of runs of equal values in file order."""
    return int(np.count_nonzero(np.diff(a))) + 1 if len(a) else 0


def _unexplained(ns: np.ndarray, codes: np.ndarray) -> int | None:
    """Repeated timestamps the column does not tell apart, or None when it is no id.

    ns, codes: (n,) in file order, read rows with a timestamp only.
    """
    values, counts = np.unique(codes, return_counts=True)
    if len(values) < 2 or counts.min() < 2:
        return None
    times, ts_code, ts_counts = np.unique(ns, return_inverse=True, return_counts=True)
    repeated = len(ns) - len(times)
    left = len(ns) - len(np.unique(codes * len(times) + ts_code))
    if left > (1.0 - EXPLAINED) * repeated:
        return None
    in_blocks = _runs(codes) <= 2 * len(values)
    mostly_repeated = np.count_nonzero(ts_counts > 1) >= 0.5 * len(times)
    return left if in_blocks or mostly_repeated else None


def refuse_stacked(tab: tables.Table, tcol: str, sample: dict[str, list[str]], ns: np.ndarray,
                   lines: np.ndarray, opts: LoadOptions) -> None:
    """DataError naming the id-like column when the rows read are several stacked series.

    Called without ``--id-col`` only. ns, lines: (n,) the rows' timestamps (NaT for those that
    did not parse) and CSV line numbers. Costs a pass over the text columns, and only when
    timestamps repeat; returns silently otherwise (the duplicate checks then report them).
    """
    if not _repeats(ns):
        return
    candidates = [c for c in tab.names if c != tcol and _is_text(sample[c])]
    if not candidates:
        return
    codes = _codes(tab, candidates, lines, opts)
    best: tuple[int, int, str] | None = None
    for name in candidates:
        keep = (codes[name] >= 0) & (ns != convert.NAT)
        left = _unexplained(ns[keep], codes[name][keep])
        if left is not None:
            rank = (left, len(np.unique(codes[name][keep])), name)
            best = rank if best is None or rank < best else best
    if best is not None:
        name = best[2]
        raise DataError(f"{tab.label}: timestamps repeat: it holds several series. Column "
                        f"{name!r} looks like a series id; pass --id-col {shlex.quote(name)}.")


def _names(cells: list[str]) -> bool:
    """Most non-empty cells of a sample are names (letters, not broken numbers or 'n/a?')."""
    text = [c.strip() for c in cells if c.strip()]
    return bool(text) and sum(_WORD.fullmatch(c) is not None for c in text) * 2 > len(text)


def _numeric_hint(numeric: list[str]) -> str:
    """``--target sales``, or with several numeric columns a target and the rest as features."""
    if len(numeric) == 1:
        return f"--target {shlex.quote(numeric[0])}"
    rest = ",".join(numeric[1:])
    return f"--target {shlex.quote(numeric[0])} --features {shlex.quote(rest)}"


def explain_text_columns(findings: Findings, sample: dict[str, list[str]], cols: tuple[str, ...],
                         id_col: str | None, rows: int) -> None:
    """A value column of text is most likely an id or a label, not numbers gone bad: its "not a
    number" finding says which option leaves it out, with the real column names."""
    refused = {f.column: f for f in findings.items if f.kind == "not_a_number"}
    generic = convert.NOT_A_NUMBER_FIX  # the cells did not look like numbers in a known format
    text = [c for c in cols if c in refused and refused[c].fix == generic
            and refused[c].count * 2 >= rows and _names(sample.get(c, []))]
    numeric = [c for c in cols if c not in refused]
    for c in text:
        finding = refused[c]
        finding.what = "cell(s) of text, not numbers"
        target = _numeric_hint(numeric) if numeric else None
        if id_col is None:
            finding.fix = f"an id column? pass --id-col {shlex.quote(c)}" + (
                f", or {target}" if target else "")
        elif target:
            finding.fix = f"a label, not a value? pass {target} to leave it out"
        else:
            finding.fix = "forecast reads numbers only: remove this column, or export the values"
