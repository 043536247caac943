"""The validation report: what a data file holds, what was fixed, and what is wrong with it.

Plain data (no rich, no numpy in the fields), so it serialises to JSON for ``validate --json``
and goes into metrics.json and the model bundle as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from forecast_cli.io.findings import Finding
from forecast_cli.io.forecast_output import SCHEMA_VERSION


@dataclass
class SeriesSummary:
    """One series after the checks (the only one unless --id-col is given)."""

    id: str | None
    rows: int  # on the regular grid, after fixes and fills
    first: str | None
    last: str | None
    missing_steps: int = 0  # timestamps absent from the file
    gaps: list[tuple[str, int]] = field(default_factory=list)  # (first missing, steps)
    missing_cells: dict[str, int] = field(default_factory=dict)
    filled: int = 0
    kept_out: int = 0  # rows kept out of every window (--fill drop)
    duplicates: int = 0  # duplicate rows dropped or merged
    skipped: str | None = None  # why training leaves it out (set by training)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "rows": self.rows, "first": self.first, "last": self.last,
                "missing_steps": self.missing_steps,
                "gaps": [{"from": a, "steps": n} for a, n in self.gaps],
                "missing_cells": self.missing_cells, "filled": self.filled,
                "kept_out": self.kept_out,
                "duplicates": self.duplicates, "skipped": self.skipped}


@dataclass
class ValidationReport:
    """Everything ``forecast validate`` prints."""

    file: str
    size_bytes: int = 0
    encoding: str = "utf-8"
    sep: str = ","  # "" for Parquet
    sep_detected: bool = False  # sniffed from the header (no --sep): reported, not warned
    format: str = "csv"  # or "parquet" (examples then number data rows, not lines)
    columns: list[str] = field(default_factory=list)  # every column of the header
    time_col: str | None = None
    id_col: str | None = None
    value_columns: list[str] = field(default_factory=list)
    rows_read: int = 0  # data rows in the file
    rows: int = 0  # rows on the regular grid(s), after fixes
    tz: str | None = None
    freq: str | None = None
    first: str | None = None
    last: str | None = None
    duplicates_dropped: int = 0
    series: list[SeriesSummary] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    strict: bool = False
    # --fill drop: lookback, horizon, and the stride-1 windows kept / in all (every series)
    drop_windows: dict[str, int] | None = None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error" or self.strict]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def usable(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION, "file": self.file, "usable": self.usable,
            "size_bytes": self.size_bytes,
            "encoding": self.encoding, "sep": self.sep, "sep_detected": self.sep_detected,
            "format": self.format,
            "columns": self.columns,
            "time_col": self.time_col, "id_col": self.id_col,
            "value_columns": self.value_columns, "rows_read": self.rows_read,
            "rows": self.rows, "tz": self.tz, "freq": self.freq, "first": self.first,
            "last": self.last, "series_count": len(self.series),
            "series": [s.to_json() for s in self.series], "fixes": self.fixes,
            "errors": [f.to_json() for f in self.errors],
            "warnings": [f.to_json() for f in self.warnings if not self.strict],
            "strict": self.strict, "drop_windows": self.drop_windows,
        }
