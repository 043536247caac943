"""Per-series target transforms, chosen on each series' training rows, applied before scaling.

Two steps, per series and target column, forward: a Box-Cox power, then the subtraction of
seasonal indices; the inverse undoes both, in reverse.

- power (``transform``): ``log`` (Box-Cox λ = 0) or ``boxcox`` (λ in [0, 1] by Guerrero's
  method) only where every training value is > 0; ``none`` elsewhere, so no log of a
  non-positive value is ever taken. Values are clamped to ``[floor, cap]``, ``RANGE`` times
  below the least and above the greatest training value, before the power and after its
  inverse: a later non-positive value, or a forecast that would overflow, stays finite.
- seasonal indices (``deseasonalize``): ``auto`` where Theta's test finds the season in the
  powered training rows (``seasonality.seasonal``), ``always`` wherever two seasons of them
  exist; additive in the powered space, so multiplicative in the original for ``log``.

The phase of every row comes from ``seasonality.phases``; ``Transforms.identity`` (every
choice ``none``) leaves the data untouched, so nothing else changes then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from forecast_cli.core import seasonality

POWERS = ("none", "log", "boxcox")
DESEASONALIZE = ("none", "auto", "always")
RANGE = 100.0  # clamp: values at most this factor beyond the training range (power only)
LAMBDAS = np.linspace(0.0, 1.0, 101)  # Guerrero's search grid


def boxcox(x: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Box-Cox of x > 0 (…, k) with λ (…, k) broadcast: log x at λ = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        powered = (np.power(x, lam) - 1.0) / np.where(lam == 0, 1.0, lam)
        return np.asarray(np.where(lam == 0, np.log(x), powered))


def inv_boxcox(y: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """The inverse of ``boxcox`` (…, k); y below the domain (λy + 1 < 0) gives 0."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        base = np.maximum(lam * y + 1.0, 0.0)
        powered = np.power(base, 1.0 / np.where(lam == 0, 1.0, lam))
        return np.asarray(np.where(lam == 0, np.exp(y), powered))


def guerrero(x: np.ndarray, m: int) -> float:
    """Guerrero's λ for x (n,) > 0: the λ of ``LAMBDAS`` making sd/mean^(1−λ) of the
    subseries of ``max(m, 2)`` rows the least variable (coefficient of variation). 1.0 (no
    power) when fewer than two subseries vary."""
    size = max(m, 2)
    groups = x[len(x) % size:].reshape(-1, size)
    mean, sd = groups.mean(axis=1), groups.std(axis=1, ddof=1)
    keep = sd > 0
    if keep.sum() < 2:
        return 1.0
    ratio = sd[keep][None, :] / mean[keep][None, :] ** (1.0 - LAMBDAS[:, None])  # (L, G)
    cv = ratio.std(axis=1, ddof=1) / ratio.mean(axis=1)
    return float(LAMBDAS[int(np.argmin(cv))])


@dataclass(frozen=True)
class Transforms:
    """The transforms of S series with k targets and season m.

    lam : (S, k) Box-Cox λ of each series and target; NaN: no power (0: log).
    floor, cap : (S, k) the clamp in original units where a power applies (else ±inf).
    indices : (S, m, k) seasonal indices subtracted after the power, phase-indexed (zeros
        where a column is not deseasonalised); m = 1 when none is.
    """

    lam: np.ndarray
    floor: np.ndarray
    cap: np.ndarray
    indices: np.ndarray

    @property
    def season(self) -> int:
        return int(self.indices.shape[1])

    @property
    def powered(self) -> np.ndarray:
        """(S, k) bool: a power applies."""
        return np.asarray(np.isfinite(self.lam))

    @property
    def deseasonalized(self) -> np.ndarray:
        """(S, k) bool: seasonal indices apply."""
        return np.asarray((self.indices != 0).any(axis=1))

    @property
    def identity(self) -> bool:
        return not (self.powered.any() or self.deseasonalized.any())

    def forward(self, x: np.ndarray, which: np.ndarray, phase: np.ndarray) -> np.ndarray:
        """x (…, k) original units of series ``which`` (…) at ``phase`` (…) → transformed.
        NaN stays NaN (rows kept out by ``--fill drop``)."""
        lam, floor, cap = self.lam[which], self.floor[which], self.cap[which]
        on = np.isfinite(lam)
        clamped = np.clip(x, floor, cap)
        y = np.where(on, boxcox(np.where(on, clamped, 1.0), np.where(on, lam, 1.0)), x)
        return np.asarray(y - self.indices[which, phase % self.season])

    def inverse(self, y: np.ndarray, which: np.ndarray, phase: np.ndarray) -> np.ndarray:
        """y (…, k) transformed, of series ``which`` (…) at ``phase`` (…) → original units,
        finite for finite y (clamped to [floor, cap] where a power applies)."""
        lam, floor, cap = self.lam[which], self.floor[which], self.cap[which]
        on = np.isfinite(lam)
        z = y + self.indices[which, phase % self.season]
        safe_lam = np.where(on, lam, 1.0)
        lo, hi = boxcox(np.where(on, floor, 1.0), safe_lam), boxcox(np.where(on, cap, 2.0),
                                                                   safe_lam)
        x = inv_boxcox(np.clip(z, lo, hi), safe_lam)
        return np.asarray(np.where(on, np.clip(x, floor, cap), z))

    def take(self, rows: list[int]) -> Transforms:
        """The transforms of series ``rows`` (a subset, in that order)."""
        return Transforms(self.lam[rows], self.floor[rows], self.cap[rows], self.indices[rows])


def forward_rows(t: Transforms, rows: np.ndarray, i: int, first_phase: int) -> np.ndarray:
    """Consecutive rows (n, F) of series ``i``, the first at ``first_phase`` → a copy with
    the k target columns (the first k) transformed."""
    k = t.lam.shape[1]
    out = np.array(rows, dtype=np.float64, copy=True)
    phase = np.arange(first_phase, first_phase + len(rows)) % t.season
    out[:, :k] = t.forward(rows[:, :k], np.full(len(rows), i), phase)
    return out


def inverse_steps(t: Transforms, values: np.ndarray, i: int, first_phase: int) -> np.ndarray:
    """Consecutive forecast steps (H, k) of series ``i``, step 1 at ``first_phase`` →
    original units."""
    phase = np.arange(first_phase, first_phase + len(values)) % t.season
    return t.inverse(values, np.full(len(values), i), phase)


def fit_one(rows: np.ndarray, power: str, deseason: str, m: int) -> tuple[np.ndarray, ...]:
    """One series' choice from its training rows (n, k), phase 0 at row 0:
    λ (k,), floor (k,), cap (k,), indices (m, k)."""
    k = rows.shape[1]
    lam, floor, cap = np.full(k, np.nan), np.full(k, -np.inf), np.full(k, np.inf)
    indices = np.zeros((max(m, 1), k))
    for j in range(k):
        col = rows[:, j]
        finite = col[np.isfinite(col)]
        if power != "none" and len(finite) >= 2 and (finite > 0).all():
            lam[j] = 0.0 if power == "log" else guerrero(finite, m)
            lam[j] = np.nan if lam[j] == 1.0 else lam[j]  # λ = 1 is x − 1: no power
            if np.isfinite(lam[j]):
                floor[j], cap[j] = finite.min() / RANGE, finite.max() * RANGE
        if deseason == "none" or m < 2 or len(finite) < len(col):
            continue  # a gap (--fill drop) breaks the moving average: not deseasonalised
        y = boxcox(col, lam[j]) if np.isfinite(lam[j]) else col
        need = seasonality.MIN_SEASONS if deseason == "auto" else seasonality.MIN_SEASONS_ALWAYS
        if len(y) >= need * m and (deseason == "always" or seasonality.seasonal(y, m)):
            indices[:, j] = seasonality.seasonal_indices(y, m)
    return lam, floor, cap, indices


def fit(train_rows: list[np.ndarray], power: str, deseason: str, m: int) -> Transforms:
    """Every series' choice from its own training rows (each (n_i, k), phase 0 at row 0)."""
    if power not in POWERS or deseason not in DESEASONALIZE:
        raise ValueError(f"unknown transform {power!r} / deseasonalize {deseason!r}")
    parts = [fit_one(r, power, deseason, m) for r in train_rows]
    lam, floor, cap, idx = (np.stack([p[i] for p in parts]) for i in range(4))
    if not idx.any():
        idx = idx[:, :1]  # no season anywhere: m = 1
    return Transforms(lam, floor, cap, idx)


def to_json(t: Transforms, ids: tuple[str, ...], anchors: list[str]) -> dict[str, Any]:
    """The bundle's record: the series that are transformed, by id (others: identity), each
    with its λ (null: none), clamp, indices (null: none) and anchor (its phase-0 timestamp)."""
    series: dict[str, Any] = {}
    for i, sid in enumerate(ids):
        on, seasonal = t.powered[i], t.deseasonalized[i]
        if not (on.any() or seasonal.any()):
            continue
        series[sid] = {"lambda": [float(v) if o else None for v, o in zip(t.lam[i], on,
                                                                         strict=True)],
                       "floor": [float(v) if o else None for v, o in zip(t.floor[i], on,
                                                                        strict=True)],
                       "cap": [float(v) if o else None for v, o in zip(t.cap[i], on,
                                                                      strict=True)],
                       "indices": t.indices[i].tolist() if seasonal.any() else None,
                       "anchor": anchors[i]}
    return {"season": t.season, "series": series}


def record_counts(record: dict[str, Any], n_series: int) -> dict[str, Any]:
    """How many of ``n_series`` series ``to_json``'s record gives each choice (any target
    column): for metrics.json and ``forecast inspect``."""
    entries = [e for e in record.get("series", {}).values() if isinstance(e, dict)]
    lams = [[v for v in e.get("lambda") or [] if v is not None] for e in entries]
    return {"transform": record.get("transform"), "deseasonalize": record.get("deseasonalize"),
            "series": n_series, "log": sum(1 for v in lams if v and all(x == 0 for x in v)),
            "boxcox": sum(1 for v in lams if v and any(x != 0 for x in v)),
            "deseasonalized": sum(1 for e in entries if e.get("indices") is not None)}


def from_json(raw: Any, ids: list[str], k: int) -> tuple[Transforms, list[str | None]]:
    """The transforms of series ``ids`` (absent ones: identity) and their anchors from
    ``to_json``'s record; ValueError naming the field when malformed."""
    if not isinstance(raw, dict) or not isinstance(raw.get("series"), dict):
        raise ValueError("must be an object with `season` and `series`")
    m = raw.get("season")
    if type(m) is not int or m < 1:
        raise ValueError(f"`season` must be an integer ≥ 1. Got {m!r}.")
    n = len(ids)
    lam, floor, cap = np.full((n, k), np.nan), np.full((n, k), -np.inf), np.full((n, k), np.inf)
    idx = np.zeros((n, m, k))
    anchors: list[str | None] = [None] * n
    for i, sid in enumerate(ids):
        entry = raw["series"].get(sid)
        if entry is None:
            continue
        if not isinstance(entry, dict):
            raise ValueError(f"series {sid[:40]!r} must be an object")
        lam[i], low, high = (_column(entry.get(key), k, f"{sid[:40]!r}.{key}")
                             for key in ("lambda", "floor", "cap"))
        on = np.isfinite(lam[i])
        if ((np.isfinite(low) != on) | (np.isfinite(high) != on)).any() or (
                (low[on] <= 0) | (low[on] > high[on]) | (lam[i][on] < -2) | (lam[i][on] > 2)
        ).any():
            raise ValueError(f"series {sid[:40]!r}: lambda, floor and cap must be given "
                             "together, with 0 < floor ≤ cap and -2 ≤ lambda ≤ 2")
        floor[i], cap[i] = np.where(on, low, -np.inf), np.where(on, high, np.inf)
        if entry.get("indices") is not None:
            table = np.asarray(entry["indices"], dtype=np.float64)
            if table.shape != (m, k) or not np.isfinite(table).all():
                raise ValueError(f"series {sid[:40]!r}.indices must be {m} × {k} finite numbers")
            idx[i] = table
            anchor = entry.get("anchor")
            if not isinstance(anchor, str):
                raise ValueError(f"series {sid[:40]!r}.anchor must be a timestamp")
            anchors[i] = anchor
    return Transforms(lam, floor, cap, idx), anchors


def _column(raw: Any, k: int, name: str) -> np.ndarray:
    """k numbers or nulls (NaN) of a series' record; ValueError when malformed."""
    if not isinstance(raw, list) or len(raw) != k:
        raise ValueError(f"{name} must be a list of {k} numbers or nulls")
    if not all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
               for v in raw):
        raise ValueError(f"{name} must be a list of {k} numbers or nulls")
    out = np.asarray([np.nan if v is None else float(v) for v in raw], dtype=np.float64)
    if np.isinf(out).any():
        raise ValueError(f"{name} must be finite")
    return out
