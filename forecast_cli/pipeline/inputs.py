"""New data for a bundle: read it as the model was trained, check it, cut the latest windows.

The only place where data meets a bundle. ``check_compatible`` refuses what the model cannot
use and warns about what it can use with caution; ``latest_windows`` picks each series' last
``lookback`` rows, scaled by its own training scaler. A file without ``--id-col`` is the panel
of one: its problems are refused or reported as for one series (column names, the range), a
panel's per series (a series that cannot be forecast is left out with a warning).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from forecast_cli.core import keepout
from forecast_cli.core.scaling import Scaler
from forecast_cli.data.frame import Frame, load_csv
from forecast_cli.errors import DataError
from forecast_cli.io import parquetread
from forecast_cli.loadoptions import LoadOptions, given_over
from forecast_cli.model.bundle import Bundle
from forecast_cli.pipeline import bundle_series, ranges, transforming

TEXT_ONLY = ("sep", "encoding", "decimal", "thousands")  # how a CSV's text is read


def _same_freq(a: str, b: str) -> bool:
    try:
        return bool(to_offset(a) == to_offset(b))
    except ValueError:
        return a == b


def _zone(tz: str | None) -> str:
    return "naive (no time zone)" if tz is None else f"in {tz}"


def load_for(bundle: Bundle, data_path: Path,
             reading: Mapping[str, Any] | None = None) -> Frame:
    """Read new data with the reading options the model was trained with (frequency aside),
    or with those ``reading`` gives in their place (``loadoptions.given_over``)."""
    recorded = replace(LoadOptions.from_settings(bundle.settings), freq=None,
                       time_col=bundle.schema.time_col)
    if parquetread.is_parquet(Path(data_path)):  # a CSV's own options were not asked for here
        plain = LoadOptions()
        recorded = replace(recorded, **{n: getattr(plain, n) for n in TEXT_ONLY
                                        if n not in (reading or {})})
    opts = given_over(recorded, reading)
    if not bundle.settings.get("calendar"):
        return load_csv(Path(data_path), columns=list(bundle.schema.inputs), options=opts)
    from forecast_cli.data.calendar_features import PREFIX, with_calendar

    own = [c for c in bundle.schema.inputs if not c.startswith(PREFIX)]
    frame = with_calendar(load_csv(Path(data_path), columns=own, options=opts))
    if frame.columns != bundle.schema.inputs:
        raise DataError(f"{data_path}: calendar inputs {', '.join(frame.columns)} differ from "
                        f"the model's {', '.join(bundle.schema.inputs)} (another frequency?).")
    return frame


def range_checked(bundle: Bundle) -> np.ndarray:
    """(F,) True for the inputs whose recent values are compared with the training range: all
    but the calendar ones, whose unseen phases (a later month of the year) are no anomaly."""
    calendar: set[str] = set()
    if bundle.settings.get("calendar"):
        from forecast_cli.data.calendar_features import names

        calendar = set(names(bundle.schema.freq))
    return np.array([c not in calendar for c in bundle.schema.inputs])


def check_compatible(bundle: Bundle, frame: Frame) -> list[str]:
    """Refuse data the model cannot use; return warnings for data it can use with caution."""
    schema, lookback = bundle.schema, bundle.spec.lookback
    if not _same_freq(frame.freq, schema.freq):
        raise DataError(f"{frame.path}: frequency {frame.freq!r} differs from the model's "
                        f"{schema.freq!r} ({bundle.path}); resample the data or retrain.")
    if frame.tz != schema.tz:
        raise DataError(f"{frame.path}: timestamps are {_zone(frame.tz)} but the model "
                        f"({bundle.path}) was trained on {_zone(schema.tz)} ones. Fix: export "
                        "the data the way the training data was, or pass the same --tz.")
    if len(frame.values) < lookback:
        raise DataError(f"{frame.path}: need at least {lookback} rows (the model's lookback), "
                        f"got {len(frame.values)}.")
    if schema.panel is None:  # --fill drop keeps rows with a missing value: not at the end
        keepout.raise_if_latest_missing(frame.values, frame.line_numbers, frame.timestamps,
                                        lookback, str(frame.path), row_unit(frame))
    warnings = [f"applied fix: {fix}" for fix in frame.fixes] + list(frame.warnings)
    last = frame.timestamps.max()  # many series: the latest of every series' last row
    if last < schema.last_timestamp:
        warnings.append(f"data ends at {last}, before the end of the training data "
                        f"({schema.last_timestamp}): the forecast covers a period the model saw.")
    if schema.panel is not None:
        return warnings  # ranges are checked per series (latest_windows)
    checked = range_checked(bundle)
    for j in np.flatnonzero(checked):  # each column with its magnitude
        only = np.arange(len(checked)) == j
        found = ranges.worst_outside(frame.values[-lookback:], bundle.scaler, schema,
                                     bundle_series.SINGLE, only, frame.columns)
        if found is not None:
            warnings.append(f"column {found.column!r}: {found.words()}; the forecast may be "
                            "unreliable.")
    return warnings


def chosen(frame: Frame, series: tuple[str, ...] | None) -> list[str]:
    """The series to forecast: all of the file's, or those named by ``--series``."""
    if frame.id_col is None:
        if series:
            raise DataError(f"{frame.path}: --series needs a model trained with --id-col.")
        return [bundle_series.SINGLE]
    if not series:
        return list(frame.series_ids)
    missing = [s for s in series if s not in frame.series_ids]
    if missing:
        raise DataError(f"{frame.path}: --series {', '.join(missing)} not in column "
                        f"{frame.id_col!r}. Series in the file: "
                        f"{', '.join(frame.series_ids[:20])}.")
    return list(series)


def latest_windows(bundle: Bundle, frame: Frame, series: tuple[str, ...] | None,
                   strict: bool) -> tuple[list[str], np.ndarray, list[pd.Timestamp], list[str]]:
    """Ids kept, their scaled last windows (S, lookback, F), last timestamps, warnings.
    A bundle with target transforms (``transforming``) has them applied before the scaling,
    each row at its phase.

    One series was checked whole by ``check_compatible``; each series of a panel is checked
    here and left out (a warning; DataError with ``strict`` or when none is left) when the
    model does not know it, it is shorter than the lookback or its latest rows miss a value.
    """
    scalers, lookback = bundle_series.scalers(bundle), bundle.spec.lookback
    served = transforming.served(bundle, bundle_series.frame_ids(frame))
    checked, ids, edges = range_checked(bundle), bundle_series.frame_ids(frame), frame.bounds()
    kept, xs, lasts, warnings = [], [], [], []
    outside: dict[str, ranges.Outside] = {}
    for sid in chosen(frame, series):
        i = ids.index(sid)
        a, b = int(edges[i]), int(edges[i + 1])
        rows = frame.values[a:b]
        problem = None if frame.id_col is None else _left_out(sid, rows, scalers, frame, a, b,
                                                              lookback)
        if problem is not None:
            warnings.append(problem)
            continue
        window = padded_window(rows, lookback)
        found = None if frame.id_col is None else ranges.worst_outside(
            window, scalers[sid], bundle.schema, sid, checked, frame.columns)
        if found is not None:
            outside[sid] = found
        kept.append(sid)
        if served is not None:  # the rows transformed, then padded as in training
            recent = rows[-lookback:]
            start = served.phase_at(i, frame.timestamps[b - len(recent)])
            window = padded_window(served.forward(i, recent, start), lookback)
        xs.append(scalers[sid].transform(window))
        lasts.append(frame.timestamps[b - 1])
    summary = ranges.panel_line(outside, len(kept))
    warnings += [summary] if summary else []
    warnings += _ends_early(frame, kept, lasts)
    if warnings and strict:
        raise DataError(f"{frame.path}: " + " ".join(warnings))
    if not kept:
        raise DataError(f"{frame.path}: no series can be forecast: " + " ".join(warnings))
    return kept, np.stack(xs), lasts, warnings


MIN_ROWS = 2  # a series of a panel with fewer rows is not forecast (panel.MIN_ROWS)


def padded_window(rows: np.ndarray, lookback: int) -> np.ndarray:
    """The last ``lookback`` rows (n, F) → (lookback, F); a series shorter than the lookback
    has its first row repeated before it, as its padded training windows had."""
    if len(rows) >= lookback:
        return rows[-lookback:]
    return np.concatenate([np.repeat(rows[:1], lookback - len(rows), axis=0), rows])


def short_ids(frame: Frame, kept: list[str], lookback: int,
              trained_short: set[str]) -> list[str]:
    """The series of ``kept`` forecast from a padded window (fewer rows than the lookback) or
    trained as short (``panel.short``): flagged ``short_history`` in the forecast."""
    if frame.id_col is None:
        return []
    ids, edges = list(frame.series_ids), frame.bounds()
    rows = {sid: int(edges[i + 1] - edges[i]) for i, sid in enumerate(ids)}
    return [sid for sid in kept if rows[sid] < lookback or sid in trained_short]


def _left_out(sid: str, rows: np.ndarray, scalers: dict[str, Scaler], frame: Frame, a: int,
              b: int, lookback: int) -> str | None:
    """Why series ``sid`` (rows a:b of the frame) cannot be forecast, or None."""
    if sid not in scalers:
        return f"series {sid!r} left out: the model was not trained on it."
    if len(rows) < MIN_ROWS:
        return (f"series {sid!r} left out: it has {len(rows)} rows, fewer than {MIN_ROWS}.")
    gone = keepout.require_latest(rows, frame.line_numbers[a:b], frame.timestamps[a:b],
                                  min(lookback, len(rows)), "", None, row_unit(frame))
    return None if gone is None else f"series {sid!r} left out: {gone}"


def _ends_early(frame: Frame, kept: list[str], lasts: list[pd.Timestamp]) -> list[str]:
    """A series whose data stops more than one step before the others' latest row: its
    forecast starts after its own last row, which may lie in the others' past."""
    if len(lasts) < 2:
        return []
    latest = max(lasts)
    step = to_offset(frame.freq)
    early = [(sid, last) for sid, last in zip(kept, lasts, strict=True)
             if last + step < latest]
    if not early:
        return []
    shown = "; ".join(f"{sid!r} at {last}" for sid, last in early[:5])
    more = f" (and {len(early) - 5} more)" if len(early) > 5 else ""
    verb = "ends" if len(early) == 1 else "end"
    return [f"{len(early)} series {verb} before the others' last row ({latest}): {shown}{more}; "
            "each is forecast from its own last row on, not from the others'."]


def row_unit(frame: Frame) -> str:
    """What ``frame.line_numbers`` count, as messages name it: a CSV's "line" (header = line
    1) or a Parquet file's data "row" (the first is row 1)."""
    return "row" if frame.report is not None and frame.report.format == "parquet" else "line"
