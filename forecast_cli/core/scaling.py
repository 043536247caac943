"""Per-column affine scaling, fitted on training rows only and saved as plain numbers.

A scaler maps ``x`` to ``(x - offset) / scale`` column by column. Fitting uses scikit-learn's
scalers (which handle zero-variance columns by using scale 1); the fitted parameters are kept
as arrays, so saving needs JSON only and applying needs numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

SCALER_KINDS = ("standard", "minmax")
# predict warns about recent values beyond this many training ranges outside the training range
RANGE_SLACK = 0.5
_FIT_BLOCK = 65_536  # rows per partial_fit


@dataclass(frozen=True)
class Scaler:
    """Fitted scaling. ``offset`` and ``scale`` have shape (k,), one entry per column."""

    kind: str
    offset: np.ndarray
    scale: np.ndarray
    data_min: np.ndarray
    data_max: np.ndarray

    def transform(self, x: np.ndarray) -> np.ndarray:
        """(…, k) original units → (…, k) scaled."""
        return np.asarray((x - self.offset) / self.scale)

    def inverse(self, x: np.ndarray) -> np.ndarray:
        """(…, k) scaled → (…, k) original units."""
        return np.asarray(x * self.scale + self.offset)

    def far_outside(self, x: np.ndarray) -> np.ndarray:
        """(…, k) original units → (…, k) bool: more than ``RANGE_SLACK`` training ranges
        outside the range the scaler was fitted on (what predict warns about)."""
        slack = RANGE_SLACK * np.maximum(self.data_max - self.data_min, 1e-12)
        return np.asarray((x < self.data_min - slack) | (x > self.data_max + slack))

    def widened(self, low: Any, high: Any) -> Scaler:
        """The same scaling, its range widened to hold [low, high] (k,): for range checks."""
        lo, hi = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
        if lo.shape != self.data_min.shape or hi.shape != self.data_max.shape:
            raise ValueError("range arrays do not match the scaler's columns")
        return replace(self, data_min=np.minimum(self.data_min, lo),
                       data_max=np.maximum(self.data_max, hi))

    def select(self, columns: list[int]) -> Scaler:
        """The scaler of a subset of columns (e.g. the targets among the inputs)."""
        return Scaler(self.kind, self.offset[columns], self.scale[columns],
                      self.data_min[columns], self.data_max[columns])

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "offset": self.offset.tolist(), "scale": self.scale.tolist(),
                "data_min": self.data_min.tolist(), "data_max": self.data_max.tolist()}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Scaler:
        """Rebuild from ``to_json`` output; raises ValueError on anything malformed."""
        if raw.get("kind") not in SCALER_KINDS:
            raise ValueError(f"unknown scaler kind {raw.get('kind')!r}")
        arrays = [np.asarray(raw[k], dtype=np.float64)
                  for k in ("offset", "scale", "data_min", "data_max")]
        if len({a.shape for a in arrays}) != 1 or arrays[0].ndim != 1:
            raise ValueError("scaler arrays have inconsistent shapes")
        if not all(np.isfinite(a).all() for a in arrays) or (arrays[1] == 0).any():
            raise ValueError("scaler parameters must be finite with non-zero scale")
        return cls(str(raw["kind"]), *arrays)


def fit_scaler(kind: str, train_values: np.ndarray) -> Scaler:
    """Fit on training rows only. ``train_values``: (n_train, k).

    Rows with a NaN (kept out by ``--fill drop``) are left out of the fit; ValueError when no
    complete row is left. Fitted with ``partial_fit`` a block of rows at a time: a single
    ``fit`` makes full-size float64 temporaries (+96 MB on 1.4 million × 8 rows,
    bench/bench_memory.py); the blocks keep them small, with the same mean, scale, min and max
    (up to rounding).
    """
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    complete = np.isfinite(train_values).all(axis=1)
    if not complete.all():
        train_values = train_values[complete]
    if not len(train_values):
        raise ValueError("no complete training row to fit the scaler on")
    if kind not in SCALER_KINDS:
        raise ValueError(f"unknown scaler kind {kind!r}")
    fitted = StandardScaler() if kind == "standard" else MinMaxScaler()
    for start in range(0, len(train_values), _FIT_BLOCK):
        fitted.partial_fit(train_values[start:start + _FIT_BLOCK])
    if kind == "standard":
        offset, scale = fitted.mean_, fitted.scale_
    else:
        # sklearn: x * scale_ + min_; ours: (x - offset) / scale.
        scale = 1.0 / fitted.scale_
        offset = -fitted.min_ * scale
    return Scaler(kind, np.asarray(offset, np.float64), np.asarray(scale, np.float64),
                  train_values.min(axis=0), train_values.max(axis=0))


@dataclass(frozen=True)
class SeriesScalers:
    """One fitted ``Scaler`` per series of a panel, stacked: ``offset`` and ``scale`` (S, F).

    A window belongs to one series (windows never cross series), so scaling a window needs its
    series index only: ``transform(x, which)`` with x (m, …, F) and which (m,). For one series
    (S = 1, ``which`` all 0) the numbers are exactly ``scalers[0].transform``'s.
    """

    scalers: tuple[Scaler, ...]

    @property
    def offset(self) -> np.ndarray:
        return np.stack([s.offset for s in self.scalers])

    @property
    def scale(self) -> np.ndarray:
        return np.stack([s.scale for s in self.scalers])

    def __len__(self) -> int:
        return len(self.scalers)

    def transform(self, x: np.ndarray, which: np.ndarray) -> np.ndarray:
        """(m, …, F) original units of windows of series ``which`` (m,) → scaled."""
        shape = (len(which),) + (1,) * (x.ndim - 2) + (x.shape[-1],)
        off, sc = self.offset[which].reshape(shape), self.scale[which].reshape(shape)
        return np.asarray((x - off) / sc)

    def inverse(self, x: np.ndarray, which: np.ndarray) -> np.ndarray:
        """(m, …, F) scaled windows of series ``which`` (m,) → original units."""
        shape = (len(which),) + (1,) * (x.ndim - 2) + (x.shape[-1],)
        off, sc = self.offset[which].reshape(shape), self.scale[which].reshape(shape)
        return np.asarray(x * sc + off)

    def select(self, columns: list[int]) -> SeriesScalers:
        """The scalers of a subset of columns (e.g. the targets among the inputs)."""
        return SeriesScalers(tuple(s.select(columns) for s in self.scalers))
