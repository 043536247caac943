"""Problems found while checking a data file, collected in one pass and reported together.

A ``Finding`` groups every occurrence of one kind of problem in one column: how many there are,
the first few (line, value) examples, what is wrong and how to fix it. Errors make the data
unusable; warnings do not (``--strict`` turns them into errors); fixes are loss-free
normalisations that were applied in memory (the input file is never modified).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Severity = Literal["error", "warning"]
MAX_SHOWN = 5  # examples kept and shown per finding; ``count`` says how many there are in all
MAX_VALUE_CHARS = 80  # longer values are cut when shown


@dataclass
class Finding:
    """One kind of problem in one column (or in the file as a whole when ``column`` is None)."""

    severity: Severity
    kind: str  # stable key, e.g. "not_a_number", "gap", "duplicate_timestamp"
    what: str  # "not a number"
    fix: str  # how to fix it, in words (options named as on the command line)
    column: str | None = None
    count: int = 0
    examples: list[tuple[int | None, str | None]] = field(default_factory=list)
    unit: str = "line"  # what the numbers count: CSV lines, or "row" (a Parquet data row)

    def message(self, source: str) -> str:
        """One line: ``FILE, column 'c': N what: line 3: 'x'; … Fix: …``."""
        where = f"{source}, column {self.column!r}" if self.column else source
        shown = []
        for line, value in self.examples:
            if line is None:
                shown.append(f"{value}")
            elif value is None:
                shown.append(f"{self.unit} {line}")
            else:
                shown.append(f"{self.unit} {line}: {value!r}")
        listing = ": " + "; ".join(shown) if shown else ""
        more = (f" (and {self.count - len(shown)} more)"
                if shown and self.count > len(shown) else "")
        fix = f" Fix: {self.fix}" if self.fix else ""
        count = f"{self.count} " if self.count > 1 else ""
        return f"{where}: {count}{self.what}{listing}{more}.{fix}"

    def to_json(self) -> dict[str, Any]:
        return {"severity": self.severity, "kind": self.kind, "column": self.column,
                "what": self.what, "count": self.count, "fix": self.fix,
                "examples": [{"line": ln, "value": v} for ln, v in self.examples]}


@dataclass
class Findings:
    """The collector every check writes to; keeps at most ``MAX_SHOWN`` examples per finding."""

    source: str
    items: list[Finding] = field(default_factory=list)
    unit: str = "line"  # "line" (CSV) or "row" (Parquet): how examples are numbered
    fixes: list[str] = field(default_factory=list)
    _converted: dict[tuple[str, str], tuple[int, Finding]] = field(default_factory=dict,
                                                                   repr=False)

    def add(self, severity: Severity, kind: str, what: str, fix: str,
            column: str | None = None, lines: Iterable[Any] | None = None,
            values: Iterable[Any] | None = None, count: int | None = None) -> None:
        """Record occurrences; repeated calls with the same kind and column accumulate."""
        found = next((f for f in self.items if f.kind == kind and f.column == column), None)
        if found is None:
            found = Finding(severity, kind, what, fix, column, unit=self.unit)
            self.items.append(found)
        _extend(found, lines, values, count)

    def applied_cells(self, what: str, column: str, lines: Iterable[Any],
                      values: Iterable[str]) -> None:
        """Record a loss-free conversion of the cells on ``lines`` (``values``: "'before' →
        'after'" of the first few); calls chunk after chunk add to one fix line per column."""
        key = (what, column)
        if key not in self._converted:
            self._converted[key] = (len(self.fixes), Finding("warning", "fix", what, "", column,
                                                            unit=self.unit))
            self.fixes.append("")
        at, found = self._converted[key]
        line_list = list(lines)
        _extend(found, line_list, values, len(line_list))
        shown = "; ".join(f"{self.unit} {line}: {value}" for line, value in found.examples)
        more = f" (and {found.count - len(found.examples)} more)" if found.count > len(
            found.examples) else ""
        self.fixes[at] = f"{what} in column {column!r}, {found.count} cell(s): {shown}{more}"

    def error(self, kind: str, what: str, fix: str, **kw: Any) -> None:
        self.add("error", kind, what, fix, **kw)

    def warn(self, kind: str, what: str, fix: str, **kw: Any) -> None:
        self.add("warning", kind, what, fix, **kw)

    def applied(self, fix: str) -> None:
        """Record a loss-free normalisation that was applied in memory."""
        self.fixes.append(fix)

    def errors(self, strict: bool = False) -> list[Finding]:
        """Findings that make the data unusable (warnings too when ``strict``)."""
        return [f for f in self.items if f.severity == "error" or strict]

    def warnings(self) -> list[Finding]:
        return [f for f in self.items if f.severity == "warning"]

    def has_errors(self, strict: bool = False) -> bool:
        return bool(self.errors(strict))

    def error_text(self, strict: bool = False) -> str:
        """Every error (and warning when strict) as one message, one line each."""
        lines = [f.message(self.source) for f in self.errors(strict)]
        if len(lines) == 1:
            return lines[0]
        return f"{self.source}: {len(lines)} problems:\n  " + "\n  ".join(lines)


def _extend(found: Finding, lines: Iterable[Any] | None, values: Iterable[Any] | None,
            count: int | None) -> None:
    """Add occurrences to ``found``: ``count`` of them (default: as many as listed), keeping
    the first ``MAX_SHOWN`` examples, each value cut to ``MAX_VALUE_CHARS``."""
    line_list = [int(x) for x in (lines if lines is not None else [])]
    value_list = [None if v is None else _cut(str(v)) for v in (values or [])]
    n = count if count is not None else max(len(line_list), len(value_list), 1)
    room = MAX_SHOWN - len(found.examples)
    for i in range(min(room, max(len(line_list), len(value_list)))):
        line = line_list[i] if i < len(line_list) else None
        value = value_list[i] if i < len(value_list) else None
        found.examples.append((line, value))
    found.count += n


def _cut(value: str) -> str:
    """A value as shown: a cell of 200,000 characters is not repeated in full."""
    if len(value) <= MAX_VALUE_CHARS:
        return value
    return f"{value[:MAX_VALUE_CHARS - 1]}… ({len(value):,} characters)"


def examples(mask: np.ndarray, lines: np.ndarray, cells: Any) -> tuple[np.ndarray, list[Any]]:
    """Lines and cell values of the first ``MAX_SHOWN`` rows where ``mask`` holds."""
    idx = np.flatnonzero(mask)[:MAX_SHOWN]
    return lines[idx], [cells[i] for i in idx]
