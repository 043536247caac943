"""How ``forecast validate`` shows its report: a rich summary on stdout, problems on stderr.

Problems are written as plain ``Error: …`` / ``Warning: …`` lines (never wrapped by a table),
so they stay greppable in cron mail and test output.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

from forecast_cli.data.report import SeriesSummary, ValidationReport

WORST_SHOWN = 10  # series listed in the table; the JSON lists all


def summary_table(r: ValidationReport) -> Table:
    """File-level facts: rows, columns, time range, frequency, gaps, missing values."""
    table = Table(title=f"{r.file}: {'usable' if r.usable else 'NOT usable'}", show_header=False)
    table.add_column("what")
    table.add_column("value")
    missing = sum(sum(s.missing_cells.values()) for s in r.series)
    gaps = sum(len(s.gaps) for s in r.series)
    rows = [
        ("size", f"{r.size_bytes:,} bytes, Parquet" if r.format == "parquet" else
         f"{r.size_bytes:,} bytes, {r.encoding}, delimiter {r.sep!r}"
         + (" (detected)" if r.sep_detected else "")),
        ("rows", f"{r.rows_read:,} read, {r.rows:,} on the regular grid"),
        ("columns", ", ".join(r.columns)),
        ("time column", f"{r.time_col} (time zone: {r.tz or 'naive'})"),
        ("value columns", ", ".join(r.value_columns)),
        ("time range", f"{r.first} … {r.last}"),
        ("frequency", str(r.freq)),
        ("gaps", f"{gaps} ({sum(s.missing_steps for s in r.series)} missing steps)"),
        ("missing values", str(missing)),
        *_kept_out(r),
        ("duplicates dropped", str(r.duplicates_dropped)),
        ("series", f"{len(r.series)}" + (f" (id column {r.id_col})" if r.id_col else "")),
    ]
    for what, value in rows:
        table.add_row(what, value)
    return table


def _kept_out(r: ValidationReport) -> list[tuple[str, str]]:
    """The --fill drop row: rows kept out of every window and the windows that costs."""
    rows = sum(s.kept_out for s in r.series)
    if not rows or r.drop_windows is None:
        return []
    w = r.drop_windows
    return [("kept out (--fill drop)", f"{rows} rows: {w['total'] - w['kept']} of {w['total']} "
             f"windows (lookback {w['lookback']} + horizon {w['horizon']})")]


def _badness(s: SeriesSummary) -> tuple[int, int]:
    return (s.missing_steps + sum(s.missing_cells.values()), -s.rows)


def series_table(r: ValidationReport) -> Table | None:
    """Per-series rows, range and gaps: the worst few when there are many."""
    if not r.id_col or not r.series:
        return None
    shown = sorted(r.series, key=_badness, reverse=True)[:WORST_SHOWN]
    title = "series" if len(r.series) <= WORST_SHOWN else (
        f"{WORST_SHOWN} of {len(r.series)} series with the most missing data (all in --json)")
    table = Table(title=title)
    for name in ("id", "rows", "first", "last", "gaps", "missing values"):
        table.add_column(name, justify="right" if name in ("rows", "gaps") else "left")
    for s in shown:
        table.add_row(str(s.id), str(s.rows), str(s.first), str(s.last), str(len(s.gaps)),
                      str(sum(s.missing_cells.values())))
    return table


def problem_lines(r: ValidationReport) -> list[str]:
    """``Warning: applied fix: …``, ``Warning: …`` and ``Error: …`` lines, in that order."""
    out = [f"Warning: applied fix: {fix}" for fix in r.fixes]
    if not r.strict:
        out += [f"Warning: {f.message(r.file)}" for f in r.warnings]
    out += [f"Error: {f.message(r.file)}" for f in r.errors]
    if r.errors:
        out.append(f"Error: {r.file} is not usable: {len(r.errors)} problem(s) listed above.")
    return out


def print_report(r: ValidationReport) -> None:
    """The summary table and, for many series, the per-series table, on stdout."""
    console = Console(soft_wrap=True)
    console.print(summary_table(r))
    table = series_table(r)
    if table is not None:
        console.print(table)


def write_problems(r: ValidationReport, quiet: bool = False) -> None:
    for line in problem_lines(r):
        if quiet and not line.startswith("Error"):
            continue
        sys.stderr.write(line + "\n")
