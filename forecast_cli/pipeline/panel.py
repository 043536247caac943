"""Many series in one long file (``--id-col``): layout, per-series splits, scaling and scores.

The frame stacks the series (``Frame.bounds()``). Every series is split by time on its own
(``splits.split_bounds`` on its rows), scaled with statistics of its own training rows, and
contributes windows whose rows all lie inside it: a window origin ``t`` of series ``i`` has
``start_i + lookback ≤ t`` and ``t + horizon ≤ end_i``, so no window crosses two series. With
``--fill drop`` no window reads a row with a missing value either (``keepout``). All windows of
all series then go through one global network in batches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecast_cli.core import keepout, metrics
from forecast_cli.core.scaling import SeriesScalers, fit_scaler
from forecast_cli.core.splits import (
    PARTS,
    Part,
    SplitBounds,
    check_length,
    origins,
    split_bounds,
)
from forecast_cli.data.frame import Frame
from forecast_cli.errors import DataError


@dataclass(frozen=True)
class Panel:
    """The series kept for training, with their local split bounds and global row offsets."""

    ids: tuple[str, ...]
    starts: np.ndarray  # (S,) global row of each kept series' first row
    bounds: tuple[SplitBounds, ...]  # local rows of each kept series
    skipped: tuple[str, ...]  # series too short, with the reason in ``warnings``
    warnings: tuple[str, ...]
    missing: np.ndarray | None = None  # (n,) bool rows kept out by --fill drop; None: none
    season: int | None = None  # scored (test) windows also need their seasonal-naive rows

    def origins(self, part: Part, lookback: int, horizon: int,
                complete_only: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Global origins of every window of ``part`` and the series index of each. (m,), (m,).

        ``complete_only``: only windows that read no missing row (all of them without any).
        """
        found = [(self._complete(self.starts[i] + origins(b, part, lookback, horizon), part,
                                 lookback, horizon, complete_only), i)
                 for i, b in enumerate(self.bounds)]
        if not found:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        glob = np.concatenate([o for o, _ in found]).astype(np.int64)
        if len(found) == 1:  # one series: a read-only view of 0, no 8 bytes per window
            return glob, np.broadcast_to(np.int64(found[0][1]), glob.shape)
        which = np.concatenate([np.full(len(o), i, np.int64) for o, i in found])
        return glob, which

    def _complete(self, at: np.ndarray, part: Part, lookback: int, horizon: int,
                  complete_only: bool) -> np.ndarray:
        if self.missing is None or not complete_only:
            return at
        return keepout.complete(self.missing, at, lookback, horizon,
                                self.season if part == "test" else None)


def layout(frame: Frame, train_frac: float, val_frac: float, lookback: int, horizon: int,
           season: int, strict: bool) -> Panel:
    """Split every series; skip (or, with ``strict``, refuse) those without a window per part.

    A file without ``--id-col`` is a panel of one whose series cannot be skipped: it is
    checked as one series and refused with the reason (``_single``).
    """
    if frame.id_col is None:
        return _single(frame, train_frac, val_frac, lookback, horizon, season)
    edges = frame.bounds()
    keep: list[int] = []
    bounds: list[SplitBounds] = []
    short: list[str] = []
    missing = frame.missing_rows()
    for i, name in enumerate(frame.series_ids):
        n = int(edges[i + 1] - edges[i])
        b = split_bounds(n, train_frac, val_frac)
        gone = missing[edges[i]: edges[i + 1]]
        found = {p: keepout.complete(gone, origins(b, p, lookback, horizon), lookback, horizon,
                                     season if p == "test" else None) for p in PARTS}
        if min(len(o) for o in found.values()) > 0 and found["test"][0] >= season:
            keep.append(i)
            bounds.append(b)
        else:
            short.append(f"{name} ({n} rows" + (f", {int(gone.sum())} kept out)" if gone.any()
                                                 else ")"))
    need = f"lookback {lookback} + horizon {horizon} with a window in train, validation and test"
    if missing.any():
        need += " that reads no row with a missing value (--fill drop)"
    warnings: tuple[str, ...] = ()
    if short:
        text = (f"{frame.path}: {len(short)} series too short for {need}, left out: "
                + ", ".join(short[:20]) + (" …" if len(short) > 20 else ""))
        if strict or not keep:
            raise DataError(text + ". Fix: drop them from the file, or use a shorter --lookback"
                            " or --horizon.")
        warnings = (text + ".",)
    return Panel(ids=tuple(frame.series_ids[i] for i in keep),
                 starts=np.asarray([edges[i] for i in keep], np.int64), bounds=tuple(bounds),
                 skipped=tuple(s.split(" (")[0] for s in short), warnings=warnings,
                 missing=missing if missing.any() else None, season=season)


def _single(frame: Frame, train_frac: float, val_frac: float, lookback: int, horizon: int,
            season: int) -> Panel:
    """The panel of one series: DataError naming what is short (rows, complete windows,
    rows before the test period for seasonal naive) instead of skipping it."""
    source = str(frame.path)
    bounds = check_length(len(frame.values), train_frac, val_frac, lookback, horizon, source)
    parts = keepout.split_origins(frame.values, bounds, lookback, horizon, season, source)
    if parts["test"][0] < season:
        raise DataError(f"{frame.path}: season {season} is longer than the {parts['test'][0]} "
                        "rows before the test period; seasonal naive cannot be scored. Pass a "
                        "shorter --season.")
    missing = frame.missing_rows()
    return Panel(ids=("",), starts=np.zeros(1, np.int64), bounds=(bounds,), skipped=(),
                 warnings=(), missing=missing if missing.any() else None, season=season)


def series_scalers(frame: Frame, panel: Panel, kind: str) -> SeriesScalers:
    """One scaler per kept series, fitted on its own training rows only."""
    return SeriesScalers(tuple(
        fit_scaler(kind, frame.values[int(start): int(start) + b.train_end])
        for start, b in zip(panel.starts, panel.bounds, strict=True)))


def mase_scales(frame: Frame, panel: Panel, season: int) -> np.ndarray:
    """In-sample seasonal-naive MAE of each kept series' training rows. (S, k)."""
    return np.stack([metrics.mase_scale(frame.values[int(a): int(a) + b.train_end], season)
                     for a, b in zip(panel.starts, panel.bounds, strict=True)])


def scores(actual: np.ndarray, forecast: np.ndarray, which: np.ndarray,
           scales: np.ndarray) -> tuple[dict[str, float], dict[int, dict[str, float]]]:
    """Overall and per-series metrics. MASE overall: mean |error| / its own series' scale."""
    per = {int(i): metrics.score(actual[which == i], forecast[which == i], scales[i])
           for i in np.unique(which)}
    if len(scales) == 1:  # one series: the overall score is that series' score
        return dict(per.get(0, metrics.score(actual, forecast, scales[0]))), per
    overall = metrics.score(actual, forecast, np.ones(actual.shape[-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.abs(actual - forecast) / scales[which][:, None, :]
    overall["mase"] = float(np.nanmean(np.where(np.isfinite(scaled), scaled, np.nan)))
    return overall, per


def score_methods(actual: np.ndarray, forecasts: dict[str, np.ndarray], which: np.ndarray,
                  scales: np.ndarray, ids: tuple[str, ...] | list[str],
                  ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, dict[str, float]]]]:
    """``scores`` of every method: overall (method → metric) and per series id (id → method →
    metric). actual and each forecast (m, H, k); which (m,) indexes ``ids`` and scales (S, k)."""
    overall: dict[str, dict[str, float]] = {}
    per: dict[str, dict[str, dict[str, float]]] = {sid: {} for sid in ids}
    for method, f in forecasts.items():
        overall[method], by_series = scores(actual, f, which, scales)
        for i, sc in by_series.items():
            per[ids[i]][method] = sc
    return overall, per
