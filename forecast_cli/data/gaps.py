"""Missing values and gaps on a regular grid: report them, or fill them when --fill allows.

Nothing is ever trained on NaN: by default every missing cell and every missing timestamp is an
error. ``--fill interpolate`` / ``--fill ffill`` fill runs of at most ``fill_limit`` steps, and
refuse when a column would be more than ``MAX_FILL_FRACTION`` invented. ``--fill drop`` invents
nothing: the rows stay on the grid as NaN and no window reads them (see ``keepout``); it refuses
when more than ``MAX_FILL_FRACTION`` of a series' rows would be kept out, at any run length.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecast_cli.data.frequency import office_hours_note
from forecast_cli.data.timeaxis import MAX_FILL_FRACTION, Rows, gap_runs
from forecast_cli.io.findings import MAX_SHOWN, Findings
from forecast_cli.loadoptions import LoadOptions


@dataclass
class GapSummary:
    """What was missing in one series before any fill."""

    gaps: list[tuple[str, int]] = field(default_factory=list)  # (first missing time, steps)
    missing_steps: int = 0
    missing_cells: dict[str, int] = field(default_factory=dict)
    filled: int = 0
    kept_out: int = 0  # rows kept out of every window by --fill drop


def _where(label: str | None) -> str:
    return f" in series {label!r}" if label else ""


def _report_gaps(rows: Rows, runs: list[tuple[int, int]], time_col: str, opts: LoadOptions,
                 findings: Findings, label: str | None) -> None:
    at = [int(rows.lines[a - 1]) if a > 0 else 0 for a, _ in runs[:MAX_SHOWN]]
    vals = [f"{n} missing step(s) from {pd.Timestamp(rows.ns[a])}" for a, n in runs[:MAX_SHOWN]]
    note = office_hours_note(pd.DatetimeIndex(rows.ns[rows.lines > 0].astype("datetime64[ns]")))
    fix = ("add the missing rows, or pass --fill interpolate or --fill ffill (fills gaps of up "
           f"to --fill-limit {opts.fill_limit} steps), or --fill drop (keeps them out of every "
           "window)")
    findings.error("gap", f"gap(s) in the timestamps{_where(label)}",
                   fix if note is None else f"{note}. Otherwise {fix}", column=time_col,
                   lines=at, values=vals, count=len(runs))


def report_cells(rows: Rows, nan: np.ndarray, columns: tuple[str, ...], findings: Findings,
                 label: str | None, refused: dict[str, np.ndarray]) -> None:
    """Missing-value errors per column: NaN cells (n, k) of rows read from the file, except
    those ``refused`` (column → lines) as not numbers, which are reported as such."""
    for j, col in enumerate(columns):
        cells = nan[:, j] & (rows.lines > 0)
        if col in refused:  # NaN because refused (reported as not numbers), not empty
            cells &= ~np.isin(rows.lines, refused[col])
        if cells.any():
            findings.error("missing_value", f"missing value(s){_where(label)}", "fill them in "
                           "the file, or pass --fill interpolate, --fill ffill or --fill drop; "
                           "nothing is ever trained on NaN", column=col,
                           lines=rows.lines[cells][:MAX_SHOWN], count=int(cells.sum()))


def _fillable(rows: Rows, nan: np.ndarray, columns: tuple[str, ...], opts: LoadOptions,
              findings: Findings, label: str | None) -> bool:
    ok = True
    for j, col in enumerate(columns):
        runs = gap_runs(nan[:, j])
        if not runs:
            continue
        lead = [r for r in runs if r[0] == 0 or r[0] + r[1] == len(nan)]
        long = [r for r in runs if r[1] > opts.fill_limit]
        share = nan[:, j].mean()
        where = (f"{n} step(s) from {pd.Timestamp(rows.ns[a])}" for a, n in (lead or long))
        if lead and opts.fill == "interpolate":
            findings.error("fill_edge", f"missing values at the start or end{_where(label)} "
                           "cannot be interpolated", "remove those rows", column=col,
                           values=list(where)[:MAX_SHOWN], count=len(lead))
            ok = False
        elif lead and runs[0][0] == 0:
            findings.error("fill_edge", f"missing values at the start{_where(label)} cannot be "
                           "forward-filled", "remove those rows", column=col,
                           values=list(where)[:MAX_SHOWN], count=1)
            ok = False
        if long:
            findings.error("fill_limit", f"run(s) of missing values longer than --fill-limit "
                           f"{opts.fill_limit}{_where(label)}", "fill them in the file, or "
                           "raise --fill-limit if inventing that many values is acceptable",
                           column=col, values=[f"{n} steps from {pd.Timestamp(rows.ns[a])}"
                                               for a, n in long[:MAX_SHOWN]], count=len(long))
            ok = False
        if share > MAX_FILL_FRACTION:
            findings.error("fill_share", f"{share:.0%} of the values are missing"
                           f"{_where(label)}, more than --fill may invent "
                           f"({MAX_FILL_FRACTION:.0%})", "fix the data at its source",
                           column=col)
            ok = False
    return ok


def handle_missing(rows: Rows, columns: tuple[str, ...], time_col: str, opts: LoadOptions,
                   findings: Findings, label: str | None = None,
                   refused: dict[str, np.ndarray] | None = None) -> tuple[Rows, GapSummary]:
    """Report gaps and missing cells; fill them if allowed. Returns rows and what was missing.

    ``refused``: column → lines of cells already refused (not numbers …), NaN here too: they
    are not counted as missing, and nothing is filled while there are any.
    """
    nan = np.isnan(rows.values)
    inserted = rows.lines == 0
    runs = gap_runs(inserted)
    summary = GapSummary(
        gaps=[(str(pd.Timestamp(rows.ns[a])), n) for a, n in runs],
        missing_steps=int(inserted.sum()),
        missing_cells={c: int((nan[:, j] & ~inserted).sum()) for j, c in enumerate(columns)})
    if refused:
        summary.missing_cells = {c: n - int(np.isin(rows.lines, refused.get(c, [])).sum())
                                 for c, n in summary.missing_cells.items()}
    if not nan.any():
        return rows, summary
    if opts.fill == "none" or refused:
        if runs and opts.fill == "none":
            _report_gaps(rows, runs, time_col, opts, findings, label)
        if opts.fill == "none":
            report_cells(rows, nan, columns, findings, label, refused or {})
        return rows, summary
    if opts.fill == "drop":
        summary.kept_out = _keep_out(rows, nan, findings, label)
        return rows, summary
    if not _fillable(rows, nan, columns, opts, findings, label):
        return rows, summary
    frame = pd.DataFrame(rows.values)
    filled = frame.interpolate(method="linear") if opts.fill == "interpolate" else frame.ffill()
    summary.filled = int(nan.sum())
    findings.applied(f"filled {summary.filled} missing value(s){_where(label)} "
                     f"({summary.missing_steps} missing timestamp(s)) with --fill {opts.fill}")
    return Rows(rows.ns, filled.to_numpy(np.float64), rows.lines), summary


def _keep_out(rows: Rows, nan: np.ndarray, findings: Findings, label: str | None) -> int:
    """--fill drop: the rows stay NaN on the grid; refused above ``MAX_FILL_FRACTION``."""
    out = nan.any(axis=1)
    share = float(out.mean())
    if share > MAX_FILL_FRACTION:
        findings.error("fill_share", f"{share:.0%} of the rows have a missing value"
                       f"{_where(label)}, more than --fill drop may keep out "
                       f"({MAX_FILL_FRACTION:.0%})", "fix the data at its source")
        return 0
    gaps = int((out & (rows.lines == 0)).sum())
    findings.applied(f"kept {int(out.sum())} row(s) with a missing value{_where(label)} "
                     f"({gaps} missing timestamp(s)) out of every window with --fill drop")
    return int(out.sum())


def check_constant(values: np.ndarray, columns: tuple[str, ...], findings: Findings,
                   label: str | None = None) -> None:
    """A constant column is usable but pointless: a warning (an error with --strict)."""
    if not len(values):
        return
    with warnings.catch_warnings():  # an all-NaN column is reported elsewhere
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    for j, col in enumerate(columns):
        if np.isfinite(low[j]) and low[j] == high[j]:
            findings.warn("constant", f"the column is constant ({low[j]:g}){_where(label)}",
                          "a model learns nothing from it; remove it or check the export "
                          "(--strict refuses it)", column=col)
