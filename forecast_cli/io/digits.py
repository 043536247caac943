"""Digits of other scripts (Arabic-Indic ٠١٢, Persian ۰۱۲, full-width ０１２, Devanagari ०१२ …)
written as ASCII 0-9: a loss-free normalisation, applied in memory and listed as a fix.

Every Unicode decimal digit (category Nd) has one value, so cells such as ``'١٢'`` or
``'٢٠٢٤-٠١-٠١'`` mean exactly ``'12'`` and ``'2024-01-01'``. Python's ``float``
would accept them silently, pandas' date parser refuses them: converting them up front, and
saying so, makes numbers and timestamps behave alike. Anything else non-ASCII (a decimal
separator of another script, a Unicode minus) is left alone and refused by the converters.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from forecast_cli.io.findings import MAX_SHOWN, Findings

_OTHER_DIGIT = re.compile(r"(?![0-9])\d")  # \d: any Unicode decimal digit (category Nd)


def _ascii(match: re.Match[str]) -> str:
    return str(unicodedata.decimal(match.group()))


def ascii_digits(cell: str) -> str:
    """``cell`` with the digits of other scripts written as ASCII 0-9."""
    return _OTHER_DIGIT.sub(_ascii, cell)


def all_ascii(cells: Any) -> bool:
    """Whether every cell of an Arrow string array (or array-like of str) is ASCII; the Arrow
    check is vectorised, so a clean chunk costs next to nothing."""
    if isinstance(cells, (np.ndarray, pd.Series, list)):
        return all(str(c).isascii() for c in cells)
    import pyarrow.compute as pc

    return pc.all(pc.string_is_ascii(cells)).as_py() is not False


def convert_digits(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """``text`` (m,) with the digits of other scripts written as ASCII, and (m,) bool: the
    cells that changed (to be listed with ``record`` once they are known to convert)."""
    odd = ~text.str.isascii().to_numpy(dtype=bool)
    if not odd.any():
        return text, odd
    out = text.copy()
    out[odd] = text[odd].map(ascii_digits)
    return out, (out != text).to_numpy(dtype=bool)


def record(findings: Findings, column: str, lines: np.ndarray, before: pd.Series,
           after: pd.Series, changed: np.ndarray) -> None:
    """List the ``changed`` cells as one fix per column: the first few lines and values, and
    how many. A cell that is refused all the same is reported as it is written, not here."""
    at = np.flatnonzero(changed)
    if at.size:
        findings.applied_cells("converted digits of another script to ASCII 0-9", column,
                               lines[at], [f"{before.iloc[i]!r} → {after.iloc[i]!r}"
                                           for i in at[:MAX_SHOWN]])
