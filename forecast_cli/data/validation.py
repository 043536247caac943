"""Check a CSV end to end in one pass: read, convert, put each series on a regular time axis.

``check_csv`` is what ``forecast validate`` runs and what ``train`` and ``predict`` run first
(through ``data.load_csv``). It never imports TensorFlow. Problems of every kind are collected
before anything is refused, so the user can fix them all at once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast_cli.core.buffers import ColumnBuffers
from forecast_cli.data import columns as colpick
from forecast_cli.data import series_hint, timeaxis
from forecast_cli.data.frequency import infer_frequency
from forecast_cli.data.gaps import check_constant, handle_missing, report_cells
from forecast_cli.data.report import SeriesSummary, ValidationReport
from forecast_cli.data.timeaxis import Rows
from forecast_cli.errors import DataError
from forecast_cli.io import convert, csvread, parquetread, tables
from forecast_cli.io.findings import MAX_SHOWN, Findings
from forecast_cli.loadoptions import LoadOptions

TIME_ERRORS = frozenset({"missing_timestamp", "bad_timestamp", "epoch_numbers", "epoch_range",
                         "time_range", "mixed_tz", "too_few_fields", "too_many_fields"})


@dataclass
class Checked:
    """The report, and the normalised rows of every series (usable when report.usable)."""

    report: ValidationReport
    series: list[tuple[str | None, Rows]]  # (id or None, rows on the regular grid)
    columns: tuple[str, ...]
    time_col: str
    id_col: str | None
    freq: str | None
    tz: str | None
    fixes: tuple[str, ...]


@dataclass
class _Raw:
    ns: np.ndarray  # (n,) int64
    aware: np.ndarray  # (n,) bool
    values: np.ndarray  # (n, k) float64
    lines: np.ndarray  # (n,) int64
    ids: np.ndarray | None  # (n,) int64 codes into id_names
    id_names: list[str]
    refused: dict[str, np.ndarray]  # column → lines of cells refused as not numbers

    def take(self, keep: np.ndarray) -> _Raw:
        return _Raw(self.ns[keep], self.aware[keep], self.values[keep], self.lines[keep],
                    None if self.ids is None else self.ids[keep], self.id_names, self.refused)


def _ids(cells: Any, lines: np.ndarray, id_col: str, codes: dict[str, int],
         findings: Findings) -> np.ndarray:
    if parquetread.is_typed(cells):  # a Parquet column of numbers: ids all the same
        cells = parquetread.as_text(cells)
    text = pd.Series(cells.to_numpy(zero_copy_only=False), dtype=object).str.strip()
    empty = (text == "").to_numpy()
    if empty.any():
        findings.error("missing_id", "row(s) without a series id", "give every row an id",
                       column=id_col, lines=lines[empty][:MAX_SHOWN], count=int(empty.sum()))
    local, uniques = pd.factorize(text)
    mapping = np.array([codes.setdefault(str(u), len(codes)) for u in uniques], dtype=np.int64)
    return mapping[local] if len(mapping) else np.zeros(len(text), dtype=np.int64)


def _drop_blank(chunk: csvread.Chunk) -> tuple[csvread.Chunk, int]:
    """Rows whose wanted cells are all empty are blank lines: loss-free to ignore."""
    import pyarrow.compute as pc

    blank = np.ones(len(chunk.lines), dtype=bool)
    for col in chunk.cells.values():
        if parquetread.is_typed(col):  # a Parquet number or timestamp: no blank line
            return chunk, 0
        blank &= np.asarray(pc.equal(col, "").to_numpy(zero_copy_only=False), dtype=bool)
        if not blank.any():
            return chunk, 0
    keep = ~blank
    return csvread.Chunk(chunk.lines[keep],
                         {k: v.filter(keep) for k, v in chunk.cells.items()},
                         chunk.short[keep]), int(blank.sum())


def _read(tab: tables.Table, tcol: str, id_col: str | None, cols: list[str], opts: LoadOptions,
          findings: Findings) -> _Raw:
    wanted = [tcol, *([id_col] if id_col else []), *cols]
    buf = ColumnBuffers(min(tab.capacity(), opts.max_rows + 1), len(cols), id_col is not None)
    codes: dict[str, int] = {}
    refused: dict[str, list[np.ndarray]] = {c: [] for c in cols}
    blank = 0
    for raw_chunk in tab.chunks(wanted, findings, opts.max_rows, opts.allow_missing):
        chunk, dropped = _drop_blank(raw_chunk)
        blank += dropped
        if not len(chunk.lines):
            continue
        ns, aware = convert.to_times(chunk.cells[tcol], tcol, chunk.lines, opts, findings)
        values = np.column_stack([convert.to_numbers(chunk.cells[c], c, chunk.lines, opts,
                                                     findings, refused[c]) for c in cols])
        parts = {"ns": ns, "aware": aware, "values": values, "lines": chunk.lines}
        if id_col:
            parts["ids"] = _ids(chunk.cells[id_col], chunk.lines, id_col, codes, findings)
        buf.append(**parts)
    if blank:
        findings.applied(f"ignored {blank} blank line(s)")
    if not buf.n:
        raise DataError(f"{tab.label}: no data rows (only a header). Fix: export the data "
                        "rows too.")
    return _Raw(buf.view("ns"), buf.view("aware"), buf.view("values"), buf.view("lines"),
                buf.view("ids") if id_col else None, list(codes),
                {c: np.concatenate(v) for c, v in refused.items() if v})


def _zone(raw: _Raw, opts: LoadOptions, tcol: str, findings: Findings) -> str | None:
    """'UTC' for offset-carrying timestamps, --tz for naive ones, None when naive."""
    aware = raw.aware
    if aware.any() and not aware.all():
        minority = ~aware if aware.mean() >= 0.5 else aware
        findings.error("mixed_tz", "timestamp(s) mix time-zone-aware and naive values",
                       "use one kind throughout: all with a UTC offset, or all without "
                       "(and pass --tz for their zone)", column=tcol,
                       lines=raw.lines[minority][:MAX_SHOWN], count=int(minority.sum()))
        return None
    if aware.all():
        if opts.tz is not None:
            findings.warn("tz_ignored", f"--tz {opts.tz} is ignored: the timestamps carry "
                          "their own UTC offsets", "leave out --tz", column=tcol)
        if opts.time_unit is None:
            findings.applied("converted timestamps with UTC offsets to UTC")
        return "UTC"
    return opts.tz


def _split(raw: _Raw) -> list[tuple[str | None, Rows]]:
    """One Rows per series, each in file order (rows read late, e.g. short ones, go back)."""
    rows, ids = Rows(raw.ns, raw.values, raw.lines), raw.ids
    if not np.all(np.diff(raw.lines) > 0):
        by_line = np.argsort(raw.lines, kind="stable")
        rows = rows.take(by_line)
        ids = None if ids is None else ids[by_line]
    if ids is None:
        return [(None, rows)]
    order = np.argsort(ids, kind="stable")  # keeps file order within a series
    bounds = np.searchsorted(ids[order], np.arange(len(raw.id_names) + 1))
    out = [(raw.id_names[i], rows.take(order[bounds[i]:bounds[i + 1]]))
           for i in range(len(raw.id_names))]
    return sorted(out, key=lambda item: str(item[0]))


def _common_freq(parts: list[tuple[str | None, Rows]]) -> str | None:
    """The frequency of the longest series (local times are close enough to infer it)."""
    _, longest = max(parts, key=lambda item: len(item[1].ns))
    ns = np.unique(longest.ns)
    return infer_frequency(pd.DatetimeIndex(ns.astype("datetime64[ns]")))


def _one_series(label: str | None, rows: Rows, opts: LoadOptions, tcol: str,
                cols: tuple[str, ...], localize: bool, refused: dict[str, np.ndarray],
                findings: Findings) -> tuple[Rows, SeriesSummary, str | None]:
    if localize:
        before = len(findings.errors())
        rows = timeaxis.localize(rows, opts, tcol, findings, label)
        if len(findings.errors()) > before:  # still local times: the grid would mislead
            _cells_only(rows, cols, opts, findings, label, refused)
            empty = SeriesSummary(id=label, rows=len(rows.ns), first=None, last=None)
            return rows, empty, None
    rows = timeaxis.order(rows, findings, label)
    before = len(rows.ns)
    rows = timeaxis.dedupe(rows, opts, tcol, findings, label)
    summary = SeriesSummary(id=label, rows=len(rows.ns), first=None, last=None,
                            duplicates=before - len(rows.ns))
    gridded, freq = timeaxis.grid(rows, opts, tcol, findings, label)
    if gridded is not None:
        rows, gaps = handle_missing(gridded, cols, tcol, opts, findings, label, refused)
        summary.rows, summary.missing_steps = len(rows.ns), gaps.missing_steps
        summary.gaps, summary.missing_cells, summary.filled = (gaps.gaps, gaps.missing_cells,
                                                               gaps.filled)
        summary.kept_out = gaps.kept_out
    else:
        _cells_only(rows, cols, opts, findings, label, refused)
    if len(rows.ns):
        summary.first = str(pd.Timestamp(rows.ns[0]))
        summary.last = str(pd.Timestamp(rows.ns[-1]))
    check_constant(rows.values, cols, findings, label)
    return rows, summary, freq


def _cells_only(rows: Rows, cols: tuple[str, ...], opts: LoadOptions, findings: Findings,
                label: str | None, refused: dict[str, np.ndarray]) -> None:
    """No grid (time problems): still report the missing cells, which do not depend on it."""
    if opts.fill == "none":
        report_cells(rows, np.isnan(rows.values), cols, findings, label, refused)


def _without_time_axis(raw: _Raw, opts: LoadOptions, tcol: str, cols: tuple[str, ...],
                       tz: str | None, kinds: set[str], findings: Findings) -> None:
    """Timestamps too broken for a time axis: gaps cannot be judged, but missing cells and
    duplicates among the readable timestamps can, so they are reported in the same pass."""
    _cells_only(Rows(raw.ns, raw.values, raw.lines), cols, opts, findings, None, raw.refused)
    if "mixed_tz" in kinds or (tz is not None and not raw.aware.any()):
        return  # local times: a repeated one may be a DST change, not a duplicate
    scratch = Findings(findings.source, unit=findings.unit)
    for label, rows in _split(raw.take(raw.ns != convert.NAT)):
        timeaxis.dedupe(rows.take(np.argsort(rows.ns, kind="stable")), opts, tcol, scratch,
                        label)
    findings.items.extend(f for f in scratch.items if f.kind == "duplicate_timestamp")


def check_csv(path: Path, columns: list[str] | None = None,
              opts: LoadOptions | None = None) -> Checked:
    """Read and check ``path``; raises only for problems that stop reading altogether.

    InputMissingError (66) when the file cannot be read; DataError (65) when it is not a
    usable CSV at all (empty, binary, wrong encoding, bad header, unknown column). Everything
    else is collected in the returned report.
    """
    opts = opts or LoadOptions()
    path = Path(path)
    tab, findings = tables.open_table(path, opts)  # a CSV, a Parquet file, or - (stdin)
    names, source = tab.names, tab.label
    sample = tab.sample(colpick.SAMPLE_ROWS)
    tcol = colpick.pick_time_col(source, sample, opts, findings, tab.unit)
    id_col = (colpick.resolve_column(source, opts.id_col, names, "id", findings)
              if opts.id_col else None)
    cols = tuple(colpick.value_columns(source, names, tcol, id_col, columns, findings))
    raw = _read(tab, tcol, id_col, list(cols), opts, findings)
    if id_col is None:  # several stacked series? name their id column (series_hint)
        series_hint.refuse_stacked(tab, tcol, sample, raw.ns, raw.lines, opts)
    series_hint.explain_text_columns(findings, sample, cols, id_col, len(raw.ns))
    tz = _zone(raw, opts, tcol, findings)
    convert.check_day_month(raw.ns, tcol, opts, findings)
    kinds = {f.kind for f in findings.items}
    series: list[tuple[str | None, Rows]] = []
    summaries, freqs = [], set()
    if not kinds & TIME_ERRORS:
        localize = tz is not None and not raw.aware.any()
        parts = _split(raw)
        if len(parts) > 1 and opts.freq is None:  # one grid for all: the longest series'
            opts = replace(opts, freq=_common_freq(parts))
        for label, rows in parts:
            rows, summary, freq = _one_series(label, rows, opts, tcol, cols, localize,
                                              raw.refused, findings)
            series.append((label, rows))
            summaries.append(summary)
            freqs.add(freq)
    else:
        _without_time_axis(raw, opts, tcol, cols, tz, kinds, findings)
    if len(freqs - {None}) > 1:
        findings.error("mixed_freq", "series have different frequencies: "
                       + ", ".join(sorted(str(f) for f in freqs - {None})),
                       "pass --freq, or split the file by frequency", column=id_col)
    freq = next(iter(freqs)) if len(freqs) == 1 else None
    report = _report(tab, tcol, id_col, cols, raw, tz, freq, summaries, findings, opts)
    return Checked(report, series, cols, tcol, id_col, freq, tz, tuple(findings.fixes))


def _report(tab: tables.Table, tcol: str, id_col: str | None,
            cols: tuple[str, ...], raw: _Raw, tz: str | None, freq: str | None,
            summaries: list[SeriesSummary], findings: Findings,
            opts: LoadOptions) -> ValidationReport:
    firsts = [s.first for s in summaries if s.first]
    lasts = [s.last for s in summaries if s.last]
    return ValidationReport(
        file=tab.label, size_bytes=tab.size, encoding=opts.encoding, sep=tab.sep,
        format=tab.format,
        sep_detected=opts.sep is None and tab.sep not in ("", ","),
        columns=tab.names, time_col=tcol, id_col=id_col,
        value_columns=list(cols),
        rows_read=len(raw.ns), rows=sum(s.rows for s in summaries), tz=tz, freq=freq,
        first=min(firsts) if firsts else None, last=max(lasts) if lasts else None,
        duplicates_dropped=sum(s.duplicates for s in summaries), series=summaries,
        fixes=list(findings.fixes), findings=list(findings.items), strict=opts.strict)
