"""Load a CSV into a checked, sorted, regularly spaced frame of float64 values.

Nothing is trusted to ``read_csv`` defaults: every cell is read as a string and converted by
``convert``, so each coercion is counted and reported with its line number (the header is
line 1). The checking itself lives in ``validation`` (which ``forecast validate`` runs on its
own); this module turns a usable result into a ``Frame`` or raises one DataError listing
every problem found.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast_cli.core import keepout
from forecast_cli.core.buffers import aligned_empty
from forecast_cli.data.frequency import window_lengths
from forecast_cli.data.report import ValidationReport
from forecast_cli.data.validation import check_csv
from forecast_cli.errors import DataError
from forecast_cli.loadoptions import LoadOptions


@dataclass(frozen=True)
class Frame:
    """A validated table of one series, or of several stacked series (``--id-col``).

    Attributes
    ----------
    path : the file it came from, as messages name it (``<stdin>`` for ``-``).
    timestamps : (n,) DatetimeIndex, sorted, unique and regularly spaced within each series.
    values : (n, k) float64, finite; column j is ``columns[j]``. With ``--fill drop`` the
        rows with a missing value stay NaN (on the time grid) and no window reads them
        (``keepout``).
    line_numbers : (n,) the CSV line each row came from (header = line 1; 0 = filled gap), or
        for Parquet its data row (the first is 1).
    fixes : normalisations that were applied in memory, in words.
    warnings : problems that do not make the data unusable, one line each.
    tz : "UTC" when the file carried offsets, the --tz zone for local times, else None.
    id_col, series_ids, series_starts : with ``--id-col``, series ``i`` is rows
        ``[series_starts[i], series_starts[i + 1])``; without, one series of all rows.
    """

    path: Path
    time_col: str
    columns: tuple[str, ...]
    timestamps: pd.DatetimeIndex
    values: np.ndarray
    freq: str
    line_numbers: np.ndarray
    fixes: tuple[str, ...] = field(default=())
    warnings: tuple[str, ...] = field(default=())
    tz: str | None = None
    id_col: str | None = None
    series_ids: tuple[str, ...] = field(default=())
    series_starts: np.ndarray | None = None
    report: ValidationReport | None = None

    def missing_rows(self) -> np.ndarray:
        """(n,) bool: rows kept out of every window (NaN, only with ``--fill drop``)."""
        return keepout.missing_rows(self.values)

    def column(self, name: str) -> np.ndarray:
        """Values of one column, shape (n,)."""
        return self.values[:, self.columns.index(name)]

    def bounds(self) -> np.ndarray:
        """Row offsets of the series: (n_series + 1,) with 0 first and n last."""
        if self.series_starts is None:
            return np.array([0, len(self.values)], dtype=np.int64)
        return self.series_starts

    def fingerprint(self) -> str:
        """sha256 over timestamps, column names and values: identifies the data, not the file."""
        digest = hashlib.sha256()
        digest.update(",".join(self.columns).encode())
        digest.update(",".join(self.series_ids).encode())
        digest.update(self.timestamps.asi8.tobytes())
        digest.update(np.ascontiguousarray(self.values, dtype="<f8").data)  # no copy
        return digest.hexdigest()


def load_csv(
    path: Path,
    columns: list[str] | None = None,
    time_col: str | None = None,
    sep: str | None = None,
    freq: str | None = None,
    options: LoadOptions | None = None,
) -> Frame:
    """Read, check and normalise a CSV of one time column and numeric value columns.

    ``columns`` are the value columns to keep, in order; ``None`` keeps every other column.
    ``time_col``, ``sep`` and ``freq`` override the same fields of ``options``.
    Raises InputMissingError (66) when the file cannot be read and DataError (65) listing every
    problem found otherwise (warnings count as problems with ``options.strict``).
    """
    opts = options or LoadOptions()
    opts = replace(opts, time_col=time_col or opts.time_col, sep=sep or opts.sep,
                   freq=freq or opts.freq)
    checked = check_csv(Path(path), columns, opts)
    report = checked.report
    if not report.usable or checked.freq is None:
        problems = [f.message(report.file) for f in report.errors]
        text = problems[0] if len(problems) == 1 else (
            f"{report.file}: {len(problems)} problems:\n  " + "\n  ".join(problems))
        raise DataError(text or f"{report.file}: no usable series.")
    parts = [rows for _, rows in checked.series]
    lengths = np.array([len(r.ns) for r in parts], dtype=np.int64)
    return Frame(
        path=Path(report.file),  # as messages name it: "<stdin>" for -
        time_col=checked.time_col, columns=checked.columns,
        timestamps=pd.DatetimeIndex(np.concatenate([r.ns for r in parts])
                                    .astype("datetime64[ns]")),
        values=_concatenated([r.values for r in parts]), freq=checked.freq,
        line_numbers=np.concatenate([r.lines for r in parts]), fixes=checked.fixes,
        warnings=tuple(f.message(report.file) for f in report.warnings), tz=checked.tz,
        id_col=checked.id_col,
        series_ids=tuple(str(label) for label, _ in checked.series) if checked.id_col else (),
        series_starts=(np.concatenate(([0], np.cumsum(lengths))) if checked.id_col else None),
        report=report)


def _concatenated(blocks: list[np.ndarray]) -> np.ndarray:
    """Row blocks (n_i, F) → (Σn_i, F) float64 in a 64-byte aligned buffer, so that training
    can hand it to TensorFlow without a copy (see ``buffers``)."""
    out = aligned_empty((sum(len(b) for b in blocks), blocks[0].shape[1]), np.float64)
    return np.concatenate(blocks, out=out)


def validate(path: Path, settings: Any) -> ValidationReport:
    """What ``forecast validate`` runs: the checks of ``load_csv``, reported instead of raised.

    ``settings`` is a ``config.Settings``: its reading options, and ``target`` + ``features``
    as the value columns (every non-time column when both are empty).
    """
    opts = LoadOptions.from_settings(settings)
    columns = [*settings.target, *settings.features] or None
    checked = check_csv(Path(path), columns, opts)
    report = checked.report
    if checked.freq is not None and any(s.kept_out for s in report.series):
        _, horizon, lookback = window_lengths(checked.freq, settings.season, settings.horizon,
                                              settings.lookback)
        counts = [keepout.stride_windows(keepout.missing_rows(rows.values), lookback, horizon)
                  for _, rows in checked.series]
        kept, total = sum(c[0] for c in counts), sum(c[1] for c in counts)
        report.drop_windows = {"lookback": lookback, "horizon": horizon, "kept": kept,
                               "total": total}
        given = settings.lookback and settings.horizon
        report.fixes.append(f"--fill drop: the kept-out rows cost {total - kept} of {total} "
                            f"windows of lookback {lookback} + horizon {horizon}"
                            + ("" if given else " (train's defaults for this frequency)"))
    return report
