"""Words for people: dates at the data's resolution, a frequency's name, a run's headline.

Used by the figures (cli/plots.py), the HTML report and ``inspect``, so that a monthly series
reads "Dec 2001", never "2001-12-01 00:00:00", and a step reads "month", never "MS".
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

_UNITS = (("min", "minute"), ("T", "minute"), ("s", "second"), ("S", "second"),
          ("h", "hour"), ("H", "hour"), ("B", "business day"), ("D", "day"),
          ("W", "week"), ("M", "month"), ("Q", "quarter"), ("Y", "year"), ("A", "year"))
METHOD_WORDS = {"model": "LSTM", "naive": "naive (last value)",
                "seasonal_naive": "seasonal naive"}


def step_word(freq: str | None) -> str:
    """"month" for MS/ME/M, "3 hours" for 3h, "week" for W-SUN; the alias itself if unknown."""
    if not freq:
        return "step"
    m = re.fullmatch(r"(\d*)([A-Za-z]+)(?:-[A-Za-z]+)?", freq)
    if not m:
        return freq
    n, alias = m.group(1), m.group(2)
    for prefix, word in _UNITS:
        if alias == prefix or (alias.startswith(prefix) and prefix in "MQYA" and len(alias) <= 3
                               and alias[len(prefix):] in ("S", "E", "BS", "BE", "B", "")):
            return f"{n} {word}s" if n and n != "1" else word
    return freq


def date_words(value: Any, freq: str | None) -> str:
    """``value`` at the data's resolution: 2001 for yearly, 2001 Q4, Dec 2001, 2001-12-03,
    2001-12-03 14:00 (and seconds only when the data has them)."""
    ts = pd.Timestamp(value)
    word = step_word(freq)
    if word.endswith("year") or word.endswith("years"):
        return f"{ts.year}"
    if word.endswith("quarter") or word.endswith("quarters"):
        return f"{ts.year} Q{ts.quarter}"
    if word.endswith("month") or word.endswith("months"):
        return ts.strftime("%b %Y")
    if ts.hour == ts.minute == ts.second == 0 and "hour" not in word and "minute" not in word:
        return ts.strftime("%Y-%m-%d")
    return ts.strftime("%Y-%m-%d %H:%M" if ts.second == 0 else "%Y-%m-%d %H:%M:%S")


def number(value: Any, digits: int = 3) -> str:
    """A score for people: 3 significant digits, "n/a" for a missing or NaN value."""
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        return "n/a"
    return f"{value:.{digits}g}" if abs(value) < 10 ** digits else f"{value:,.0f}"


def headline(test: dict[str, Any]) -> str:
    """"The LSTM's MASE is 0.49 against seasonal naive's 1.24: it beats …" from metrics.json's
    ``test``."""
    model = (test.get("model") or {}).get("mase")
    base = (test.get("seasonal_naive") or {}).get("mase")
    if not isinstance(model, int | float) or not isinstance(base, int | float):
        return "No test scores recorded for this model."
    verdict = ("beats" if model < base else "does not beat")
    return (f"The LSTM's MASE is {model:.2f} against seasonal naive's {base:.2f}: it {verdict} "
            "the baseline on the test period (lower is better).")


def value_words(value: Any) -> str:
    """A setting's value for people: none, yes/no, a list comma-separated, a float short."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(value_words(v) for v in value) or "none"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def mase_note(scores: dict[str, Any]) -> str:
    """"MASE: LSTM 0.49 · seasonal naive 1.24" from method → metric → value; "" when either
    is missing or not finite."""
    model = (scores.get("model") or {}).get("mase") if isinstance(scores, dict) else None
    base = (scores.get("seasonal_naive") or {}).get("mase") if isinstance(scores, dict) else None
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in (model, base)):
        return ""
    return f"MASE: LSTM {model:.2f} · seasonal naive {base:.2f}"
