"""How many decimals numbers are written with: the data's own, plus a few (issue 13).

A forecast of data kept to 2 decimals is not known to 16: ``371.9959316224423`` claims digits
nobody measured. ``forecast train`` records the most decimal places any target value of the
training data has (``decimals``) plus ``EXTRA`` as the ``precision`` setting; every output
of values in the data's units (forecasts, bounds, actuals) is rounded to that many decimal
places (``rounded``), and ``--precision N`` chooses another. Decimal places, not significant
digits: they are what the data's own cells show, whatever the magnitude.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from forecast_cli.checks import MAX_DECIMALS  # at and beyond it: every digit (shortest repr)

EXTRA = 3  # decimals written beyond the data's own
_EXACT = 2.0**52  # below this, x · 10^d is an integer exactly when x has ≤ d decimals


def decimals(values: np.ndarray) -> int:
    """The most decimal places of any finite value of ``values`` (any shape), as the shortest
    decimal that reads back as the same float64 shows them (``371.12`` → 2, ``1e-05`` → 5);
    ``MAX_DECIMALS`` for values that need more (computed, not typed); 0 when none is finite.

    A value read from the text ``371.12`` is the float64 nearest to it, and rounding that to 2
    decimals gives it back exactly: the test is exact, and vectorised.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    for d in range(MAX_DECIMALS):
        small = np.abs(v) * 10.0**d < _EXACT  # larger: no room for more decimals anyway
        if bool((np.round(v[small], d) == v[small]).all()):
            return d
    return MAX_DECIMALS


def for_data(values: np.ndarray) -> int:
    """The ``precision`` for data ``values``: their decimals plus ``EXTRA``, at most
    ``MAX_DECIMALS`` (written in full)."""
    return min(decimals(values) + EXTRA, MAX_DECIMALS)


def rounded(values: np.ndarray, precision: int | None) -> np.ndarray:
    """``values`` (any shape, float64) rounded to ``precision`` decimal places; unchanged for
    None or ≥ ``MAX_DECIMALS``. Values too large to round exactly keep every digit they have
    (they have no more than ``precision`` decimals to show); NaN and ±inf stay as they are.
    The result's shortest repr has at most ``precision`` decimals."""
    v = np.asarray(values, dtype=np.float64)
    if precision is None or precision >= MAX_DECIMALS:
        return v
    with np.errstate(invalid="ignore", over="ignore"):
        exact = np.abs(v) * 10.0**precision < _EXACT
        return np.where(exact, np.round(v, precision), v)


def stored(value: object) -> int | None:
    """A bundle's recorded ``precision`` when it is one (an int from 0 up), else None: a bundle
    written before it was recorded, or a damaged value, writes every digit."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def rounded_floats(obj: Any, precision: int | None) -> Any:
    """``obj`` (JSON-like: dicts, lists, numbers, text) with every float rounded to
    ``precision`` decimal places as ``rounded`` does; ints, bools and text unchanged; ``obj``
    itself for None (every digit). For reports of scores and coverages (backtest, evaluate)."""
    if precision is None:
        return obj
    if isinstance(obj, float):
        return float(rounded(np.asarray(obj), precision))
    if isinstance(obj, dict):
        return {k: rounded_floats(v, precision) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [rounded_floats(v, precision) for v in obj]
    return obj
