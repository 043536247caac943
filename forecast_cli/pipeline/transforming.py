"""The target transforms (``core.transform``) of a panel in train, backtest, evaluate, predict.

Chosen per series on the rows its scaler is fitted on (``panel.fit_rows``), with phase 0 at
the first of them: its *anchor*. The scalers are then fitted on the transformed rows; their
``data_min``/``data_max`` stay the original rows' (predict's range checks read original
units), and the original target scales go to the pooled intervals, which are calibrated on
forecasts turned back into original units. A bundle records each transformed series' choice
and anchor in config.json's ``data.transform``; data read later is put in phase by the
number of steps between the anchor and its rows' timestamps (``frequency.steps_between``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from forecast_cli.core import seasonality
from forecast_cli.core import transform as tf
from forecast_cli.core.scaling import SeriesScalers, fit_scaler
from forecast_cli.core.theta import ThetaBlend, served_share
from forecast_cli.data.frame import Frame
from forecast_cli.data.frequency import steps_between
from forecast_cli.errors import BundleError
from forecast_cli.model.bundle import Bundle
from forecast_cli.pipeline import panel
from forecast_cli.pipeline.fitting import Feed
from forecast_cli.settings import Settings


def feed_for(values: np.ndarray, spans: np.ndarray, fits: list[slice], s: Settings,
             future: np.ndarray | None, starts: np.ndarray | None = None) -> Feed:
    """What a network fitted on ``values`` (n, F) reads: series i is global rows
    ``spans[i]`` = (a, b) (S, 2); its scaler and its target transform are fitted on rows
    ``fits[i]``, the first of which is its phase 0. Without a transform (settings ``none``,
    or nothing chosen) the data itself, scaled per window: today's numbers, no copy."""
    scalers = SeriesScalers(tuple(fit_scaler(s.scaler, values[rows]) for rows in fits))
    k = len(s.target)
    t = None
    if s.transform != "none" or s.deseasonalize != "none":
        t = tf.fit([values[rows, :k] for rows in fits], s.transform, s.deseasonalize,
                   int(s.season or 1))
    if t is None or t.identity:
        return Feed.of(values, scalers, future, starts)
    bases = np.asarray([rows.start for rows in fits], np.int64)
    out = transformed(values, t, spans, bases)
    fitted = ranged(SeriesScalers(tuple(fit_scaler(s.scaler, out[rows]) for rows in fits)),
                    scalers)
    return Feed(out, fitted, fitted, future, starts, t, bases,
                scalers.select(list(range(k))).scale)


def transformed(values: np.ndarray, t: tf.Transforms, spans: np.ndarray,
                bases: np.ndarray) -> np.ndarray:
    """values (n, F) with the k target columns of series i's rows ``spans[i]`` = (a, b)
    transformed at their phases (``bases`` (S,): the global row of each's phase 0). A copy;
    rows of no series (skipped ones) are left as they are."""
    k = t.lam.shape[1]
    out = np.array(values, dtype=np.float64, copy=True)
    for i, (a, b) in enumerate(spans):
        rows = np.arange(a, b)
        phase = seasonality.phases(rows, bases[i], t.season)
        out[a:b, :k] = t.forward(values[a:b, :k], np.full(b - a, i), phase)
    return out


def train_feed(frame: Frame, p: panel.Panel, s: Settings, future: np.ndarray | None,
               starts: np.ndarray | None) -> Feed:
    """What the network of ``train`` reads: each kept series' scaler and transform fitted
    on its own training rows (``panel.fit_rows``)."""
    spans = _spans(p)
    fits = [panel.fit_rows(frame, p, i) for i in range(len(p.ids))]
    return feed_for(frame.values, spans, fits, s, future, starts)


def refit_feed(frame: Frame, p: panel.Panel, s: Settings, future: np.ndarray | None,
               starts: np.ndarray | None) -> Feed:
    """What the refit on every window (``ensemble.refit``) reads: each kept series' scaler and
    transform fitted on all its rows, as the held-out fit's were on its training rows. The
    refit holds nothing out, so nothing is gained by hiding rows from its choices: the
    seasonality test, which needs three seasons and whose power grows with its rows, sees the
    whole history (352 of M3 monthly's 1,428 series have fewer than 72 rows: three seasons
    beyond two held-out horizons of 18). The phase-0 row (the anchor) is the series' first
    either way."""
    spans = _spans(p)
    return feed_for(frame.values, spans, [slice(int(a), int(b)) for a, b in spans], s, future,
                    starts)


def _spans(p: panel.Panel) -> np.ndarray:
    """Each kept series' global rows (a, b), a its first: (S, 2)."""
    return np.asarray([(int(a), int(a) + b.n) for a, b in zip(p.starts, p.bounds, strict=True)],
                      np.int64).reshape(-1, 2)


def ranged(fitted: SeriesScalers, original: SeriesScalers) -> SeriesScalers:
    """``fitted``'s scaling with ``original``'s ranges (what range checks compare with)."""
    return SeriesScalers(tuple(replace(f, data_min=o.data_min, data_max=o.data_max)
                               for f, o in zip(fitted.scalers, original.scalers, strict=True)))


def anchors(frame: Frame, p: panel.Panel) -> list[str]:
    """The timestamp of each kept series' phase-0 row (its first), ISO 8601, naive UTC."""
    return [pd.Timestamp(frame.timestamps[int(a)]).isoformat() for a in p.starts]


def record(t: tf.Transforms | None, frame: Frame, p: panel.Panel,
           s: Settings) -> dict[str, Any] | None:
    """config.json's ``data.transform``: the transformed series' choices; None: none is."""
    if t is None:
        return None
    ids = p.ids if frame.id_col is not None else ("",)
    return {"transform": s.transform, "deseasonalize": s.deseasonalize,
            **tf.to_json(t, ids, anchors(frame, p))}


@dataclass(frozen=True)
class Served:
    """A bundle's transforms for the series ``ids`` of a data file (unknown ones: identity),
    with the anchor of each (None: not deseasonalised, no phase needed)."""

    transforms: tf.Transforms
    ids: tuple[str, ...]
    anchors: tuple[str | None, ...]
    freq: str

    def phase_at(self, i: int, stamp: pd.Timestamp) -> int:
        """The phase of series ``i``'s row at ``stamp``: steps from its anchor, mod m."""
        anchor = self.anchors[i]
        if anchor is None or self.transforms.season < 2:
            return 0
        return steps_between(pd.Timestamp(anchor), pd.Timestamp(stamp),
                             self.freq) % self.transforms.season

    def forward(self, i: int, rows: np.ndarray, first_phase: int) -> np.ndarray:
        """rows (n, F) of series ``i``, its first at ``first_phase`` → targets transformed."""
        return tf.forward_rows(self.transforms, rows, i, first_phase)

    def inverse(self, i: int, values: np.ndarray, first_phase: int) -> np.ndarray:
        """values (H, k) transformed forecasts of series ``i``, step 1 at ``first_phase``
        → original units."""
        return tf.inverse_steps(self.transforms, values, i, first_phase)


def served(bundle: Bundle, ids: list[str] | tuple[str, ...]) -> Served | None:
    """The bundle's transforms of series ``ids``; None when it records none. BundleError when
    its record is malformed."""
    raw = bundle.schema.transform
    if raw is None:
        return None
    try:
        t, found = tf.from_json(raw, list(ids), bundle.spec.n_targets)
    except ValueError as exc:
        raise BundleError(f"{bundle.path}: config.json data.transform is malformed "
                          f"({exc}).") from None
    return Served(t, tuple(ids), tuple(found), bundle.schema.freq)


def bundle_feed(bundle: Bundle, frame: Frame, values: np.ndarray, ids: list[str],
                scalers: SeriesScalers, future: np.ndarray | None,
                starts: np.ndarray | None = None) -> Feed:
    """The Feed of a bundle's network over ``frame``'s series ``ids`` (evaluate, champion):
    values (n, F) in the network's column order, transformed as the bundle says, its
    forecasts blended with Theta as the bundle serves them. ``starts`` (S,): each series'
    first row, when some window is padded (a short series)."""
    s = served(bundle, ids)
    all_ids = list(frame.series_ids) if frame.id_col is not None else [""]
    edges = frame.bounds()
    spans = np.asarray([(edges[all_ids.index(sid)], edges[all_ids.index(sid) + 1])
                        for sid in ids], np.int64)
    share, always = served_share(bundle.settings)
    theta = (ThetaBlend(values[:, list(bundle.spec.target_index)], spans[:, 0],
                        int(bundle.schema.season or 1), share, always) if share else None)
    if s is None:
        return replace(Feed.of(values, scalers, future, starts), theta=theta)
    bases = np.asarray([a - s.phase_at(i, frame.timestamps[a]) for i, (a, _) in
                        enumerate(spans)], np.int64)
    return Feed(transformed(values, s.transforms, spans, bases), scalers, scalers, future,
                starts, transforms=s.transforms, bases=bases, theta=theta)
